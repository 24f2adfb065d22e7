using System.Net.Security;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using static Gatehouse.Wire.Tuning.OpenSslAccess;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// Two OpenSSL settings .NET offers no option for, applied to each accepted <see cref="SslStream"/>
/// right after its handshake, while no read or write is in flight (issue 9, idle memory):
/// <list type="number">
/// <item>SSL_MODE_RELEASE_BUFFERS on the connection, as nginx sets it: OpenSSL frees its read and
/// write buffers whenever a record has been fully read or written. The two memory BIOs also drop the
/// room their handshake flights took (<see cref="MemoryBio.Shrink"/>).</item>
/// <item>No session resumption on its SSL_CTX (no tickets, no session cache): a resumed session reports
/// no client certificate on .NET/Linux, so every connection must prove its key. Forbidding it here
/// rather than with AllowTlsResume = false lets .NET share one cached SSL_CTX instead of building one
/// per connection (<see cref="CanShareContexts"/>).</item>
/// </list>
/// </summary>
internal sealed class OpenSslTuning(ILogger logger)
{
    internal const string Name = "OpenSSL buffer release and one shared SSL_CTX without resumption";

    /// <summary>SSL_MODE_RELEASE_BUFFERS.</summary>
    internal const long ReleaseBuffers = 0x10;

    /// <summary>SSL_OP_NO_TICKET: no stateless tickets, and in TLS 1.3 tickets are then looked up in the (disabled) cache only.</summary>
    internal const ulong NoTicket = 1UL << 14;

    /// <summary>SSL_SESS_CACHE_OFF | SSL_SESS_CACHE_NO_INTERNAL: nothing stored, nothing looked up, even a session stored earlier.</summary>
    internal const long NoSessionCache = 0x0300;

    private readonly FirstFailure _failure = new(logger, Name);

    /// <summary>
    /// True while connections may share .NET's cached SSL_CTX: every handshake so far could forbid
    /// resumption on it. False for good after the first that could not (back to a context per connection).
    /// </summary>
    public bool CanShareContexts => OpenSslAccess.Unsupported is null && !_failure.HasFailed;

    /// <summary>Sets both on <paramref name="stream"/>. Call after the handshake and before the first read or write, never concurrently with either.</summary>
    public void Apply(SslStream stream)
    {
        if (CanShareContexts)
        {
            Apply(SecurityContext(stream));
        }
    }

    /// <summary>As <see cref="Apply(SslStream)"/> on a security context already in hand (tests give it wrong shapes).</summary>
    internal void Apply(object? securityContext)
    {
        if (!CanShareContexts)
        {
            return;
        }

        string? unexpected;
        try
        {
            unexpected = NotOpenSsl(securityContext) ?? WithSsl((SafeHandle)securityContext!, ApplyToSsl);
        }
        catch (ObjectDisposedException)
        {
            unexpected = "the SSL handle was already closed";
        }
        catch (Exception ex)
        {
            // Whatever went wrong, change nothing more.
            unexpected = $"{ex.GetType().Name}: {ex.Message}";
        }

        if (unexpected is not null)
        {
            _failure.Record(unexpected);
        }
    }

    /// <summary>Null when both settings were made; otherwise why not.</summary>
    private static string? ApplyToSsl(IntPtr ssl)
    {
        IntPtr sslContext = ssl == IntPtr.Zero ? IntPtr.Zero : Native.SslGetSslCtx(ssl);
        if (sslContext == IntPtr.Zero)
        {
            return "no SSL or SSL_CTX behind the handle";
        }

        // The context first: SSLs created from now on copy NO_TICKET from it, and a ticket or session
        // issued before (by a handshake that raced this one) can never be accepted again.
        bool noResumption = (Native.SslCtxSetOptions(sslContext, NoTicket) & NoTicket) != 0;
        Native.SslCtxCtrl(sslContext, Native.SslCtrlSetSessionCacheMode, (nint)NoSessionCache, IntPtr.Zero);
        noResumption &= Native.SslCtxCtrl(sslContext, Native.SslCtrlGetSessionCacheMode, 0, IntPtr.Zero) == NoSessionCache;
        noResumption &= Native.SslCtxSetNumTickets(sslContext, 0) == 1;
        if (!noResumption)
        {
            return "SSL_CTX did not take SSL_OP_NO_TICKET, session cache off and zero tickets";
        }

        long mode = Native.SslCtrl(ssl, Native.SslCtrlMode, (nint)ReleaseBuffers, IntPtr.Zero);
        if ((mode & ReleaseBuffers) == 0)
        {
            return $"SSL_ctrl(SSL_CTRL_MODE) answered {mode:x}";
        }

        MemoryBio.Shrink(Native.SslGetRbio(ssl));
        MemoryBio.Shrink(Native.SslGetWbio(ssl));
        return null;
    }
}
