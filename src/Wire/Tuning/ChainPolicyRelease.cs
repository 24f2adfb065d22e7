using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// Lets an admitted SslStream drop its copy of the handshake's chain policy (issue 9: idle memory).
/// SslStream clones <see cref="SslServerAuthenticationOptions.CertificateChainPolicy"/> per handshake
/// into its private options and keeps the clone for its whole life: with the user CAs as custom roots
/// (<see cref="HandshakeChain"/>) that is a policy, two certificate collections and an OID collection
/// on every idle connection. The policy serves only to build the client's chain, which is done once
/// the handshake is; a later verification (renegotiation with another certificate) meets the shared
/// callback with no check on the stream, which refuses (<see cref="TlsAcceptor"/>).
/// </summary>
internal sealed class ChainPolicyRelease(ILogger logger)
{
    internal const string Name = "chain policy release";

    /// <summary>SslStream's private options (dotnet/runtime, SslStream.cs) and the internal type's property.</summary>
    internal const string OptionsField = "_sslAuthenticationOptions";
    internal const string OptionsType = "System.Net.Security.SslAuthenticationOptions, System.Net.Security";
    internal const string PolicyProperty = "CertificateChainPolicy";

    // Constant names on a constant type, as in OpenSslAccess: visible to the trimmer, so NativeAOT keeps them.
    private static readonly FieldInfo? s_options =
        typeof(SslStream).GetField(OptionsField, BindingFlags.Instance | BindingFlags.NonPublic);

    private static readonly PropertyInfo? s_policy =
        Type.GetType(OptionsType, throwOnError: false)?.GetProperty(PolicyProperty, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    /// <summary>Why this runtime lacks the shape relied on (checked once), or null when it may try.</summary>
    public static string? Unsupported { get; } = FindUnsupported();

    private readonly FirstFailure _failure = new(logger, Name);

    /// <summary>Drops <paramref name="stream"/>'s chain policy. Call after the handshake succeeded and before the stream is used, never concurrently with it.</summary>
    public void Release(SslStream stream)
    {
        if (Unsupported is not null || _failure.HasFailed)
        {
            return;
        }

        string? unexpected = null;
        try
        {
            if (s_options!.GetValue(stream) is { } options)
            {
                s_policy!.SetValue(options, null);
            }
            else
            {
                unexpected = $"SslStream.{OptionsField} is null after the handshake";
            }
        }
        catch (Exception ex) when (ex is TargetException or TargetInvocationException or ArgumentException or MemberAccessException)
        {
            unexpected = $"{ex.GetType().Name}: {ex.Message}";
        }

        if (unexpected is not null)
        {
            _failure.Record(unexpected);
        }
    }

    /// <summary>The chain policy <paramref name="stream"/> holds now (tests); null when released or unreachable.</summary>
    internal static X509ChainPolicy? Held(SslStream stream) =>
        Unsupported is null && s_options!.GetValue(stream) is { } options ? s_policy!.GetValue(options) as X509ChainPolicy : null;

    private static string? FindUnsupported()
    {
        if (s_options is null)
        {
            return $"SslStream.{OptionsField} not found";
        }

        if (s_policy is null)
        {
            return $"{OptionsType}.{PolicyProperty} not found";
        }

        if (!s_policy.CanWrite || s_policy.PropertyType != typeof(X509ChainPolicy) || s_policy.DeclaringType != s_options.FieldType)
        {
            return $"{s_policy.DeclaringType}.{PolicyProperty} is not a writable X509ChainPolicy of SslStream.{OptionsField}'s type ({s_options.FieldType})";
        }

        return null;
    }
}
