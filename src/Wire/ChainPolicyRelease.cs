using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// Lets an admitted SslStream drop its copy of the handshake's chain policy (issue 9: idle memory).
/// SslStream clones <see cref="SslServerAuthenticationOptions.CertificateChainPolicy"/> per handshake
/// into its private options and keeps the clone for its whole life: with the user CAs as custom roots
/// (<see cref="HandshakeChain"/>) that is a policy, two certificate collections and an OID collection,
/// ~290 bytes on every idle connection. The policy serves only to build the client's chain, which is
/// done once the handshake is; a later verification (renegotiation with another certificate) meets
/// the shared callback with no check on the stream, which refuses (<see cref="TlsAcceptor"/>).
/// Best effort: on a runtime of another shape nothing is changed.
/// </summary>
internal static class ChainPolicyRelease
{
    /// <summary>SslStream's private options (dotnet/runtime, SslStream.cs) and the internal type's property.</summary>
    private const string OptionsField = "_sslAuthenticationOptions";
    private const string OptionsType = "System.Net.Security.SslAuthenticationOptions, System.Net.Security";
    private const string PolicyProperty = "CertificateChainPolicy";

    // Constant names on a constant type, as in OpenSslTuning: visible to the trimmer, so NativeAOT keeps them.
    private static readonly FieldInfo? s_options =
        typeof(SslStream).GetField(OptionsField, BindingFlags.Instance | BindingFlags.NonPublic);

    private static readonly PropertyInfo? s_policy = Shaped(
        Type.GetType(OptionsType, throwOnError: false)?.GetProperty(PolicyProperty, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public));

    /// <summary>True when this runtime has the expected shape.</summary>
    internal static bool Supported => s_policy is not null;

    /// <summary>
    /// Drops <paramref name="stream"/>'s chain policy; true when it holds none now. Call after the
    /// handshake succeeded and before the stream is used, never concurrently with it.
    /// </summary>
    public static bool TryRelease(SslStream stream)
    {
        if (s_policy is null)
        {
            return false;
        }

        try
        {
            if (s_options!.GetValue(stream) is not { } options)
            {
                return false;
            }

            s_policy.SetValue(options, null);
            return true;
        }
        catch (Exception ex) when (ex is TargetException or TargetInvocationException or ArgumentException or MemberAccessException)
        {
            // A memory saving must never cost a connection.
            return false;
        }
    }

    /// <summary>The chain policy <paramref name="stream"/> holds now (tests); null when released or unreachable.</summary>
    internal static X509ChainPolicy? Held(SslStream stream) =>
        s_policy is not null && s_options!.GetValue(stream) is { } options ? s_policy.GetValue(options) as X509ChainPolicy : null;

    private static PropertyInfo? Shaped(PropertyInfo? policy) =>
        s_options is not null && policy is { CanWrite: true } && policy.PropertyType == typeof(X509ChainPolicy) && policy.DeclaringType == s_options.FieldType
            ? policy
            : null;
}
