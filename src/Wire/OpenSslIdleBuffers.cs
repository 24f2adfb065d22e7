using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire;

/// <summary>
/// Turns on OpenSSL's SSL_MODE_RELEASE_BUFFERS for each accepted <see cref="SslStream"/>, as nginx
/// does for every connection: OpenSSL then frees its ~17 KiB read buffer and ~17 KiB write buffer
/// whenever a record has been fully read or written, instead of keeping both for the connection's
/// life. An idle keep-alive connection then holds neither: 5,000 idle connections went from 62 to
/// 30 KiB of malloc'd memory each (issue 9, scenario 4). .NET neither sets this mode nor offers an
/// option for it, so we reach the SSL* that the platform's SslStream holds (its private
/// <c>_securityContext</c>, a SafeSslHandle on Linux) and call SSL_ctrl ourselves, once, right after
/// the handshake, while no read or write is in flight.
/// <para>
/// Best effort and never fatal: on another platform, another OpenSSL major version or another
/// runtime shape (the private field renamed or retyped by a later .NET), nothing is changed and
/// connections work exactly as before, only keeping their buffers; that is logged once at Debug.
/// </para>
/// </summary>
internal sealed class OpenSslIdleBuffers(ILogger logger)
{
    /// <summary>The private SslStream field that holds the platform's security context (dotnet/runtime, SslStream.Protocol.cs).</summary>
    private const string SecurityContextField = "_securityContext";

    /// <summary>The Linux (OpenSSL) security context: a SafeHandle whose handle is the SSL*.</summary>
    private const string OpenSslHandleType = "Microsoft.Win32.SafeHandles.SafeSslHandle";

    private const string LibSsl3 = "libssl.so.3";

    // openssl/ssl.h: SSL_set_mode(s, m) is SSL_ctrl(s, SSL_CTRL_MODE, m, NULL); it ORs m into the
    // mode and returns the new mode (m = 0 just reads it). Stable ABI values since OpenSSL 1.0.
    private const int SslCtrlMode = 33;

    /// <summary>SSL_MODE_RELEASE_BUFFERS.</summary>
    internal const long ReleaseBuffers = 0x10;

    // Reflection, not [UnsafeAccessor]: the field's type is internal, and .NET 10's UnsafeAccessorType
    // does not cover a field of an internal type (the runtime throws NotSupportedException, "Invalid
    // usage of UnsafeAccessorTypeAttribute"). A constant name on typeof(SslStream) is visible to the
    // trimmer, so NativeAOT keeps the field; a runtime without it leaves this null (the fallback).
    private static readonly FieldInfo? s_securityContext =
        typeof(SslStream).GetField(SecurityContextField, BindingFlags.Instance | BindingFlags.NonPublic);

    private int _unavailable; // 1 once a connection found the shape unexpected: logged once, never tried again

    /// <summary>
    /// Sets SSL_MODE_RELEASE_BUFFERS on <paramref name="stream"/>'s OpenSSL connection; true when set.
    /// Call after the handshake and before the first read or write, never concurrently with either.
    /// </summary>
    public bool TryEnable(SslStream stream)
    {
        if (Volatile.Read(ref _unavailable) != 0)
        {
            return false;
        }

        string? unexpected;
        try
        {
            unexpected = Platform() ?? Enable(s_securityContext is null ? Missing.Value : s_securityContext.GetValue(stream));
        }
        catch (Exception ex)
        {
            // A memory saving must never cost a connection: whatever went wrong, keep the buffers.
            unexpected = $"{ex.GetType().Name}: {ex.Message}";
        }

        return Settle(unexpected);
    }

    /// <summary>As <see cref="TryEnable(SslStream)"/> on a security context already in hand (tests give it wrong shapes).</summary>
    internal bool TryEnable(object? securityContext) =>
        Volatile.Read(ref _unavailable) == 0 && Settle(Platform() ?? Enable(securityContext));

    /// <summary>The mode OpenSSL holds for <paramref name="stream"/> (SSL_get_mode); null when it cannot be reached.</summary>
    internal static long? CurrentMode(SslStream stream) =>
        Platform() is null && s_securityContext?.GetValue(stream) is SafeHandle handle && IsOpenSslHandle(handle)
            ? Control(handle, 0)
            : null;

    private bool Settle(string? unexpected)
    {
        if (unexpected is null)
        {
            return true;
        }

        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
        {
            WireLog.IdleBuffersKept(logger, unexpected);
        }

        return false;
    }

    /// <summary>Null on Linux with OpenSSL 3.x loaded by the runtime; otherwise why not.</summary>
    private static string? Platform()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux: the platform's TLS is not OpenSSL";
        }

        // The OpenSSL the runtime loaded, not whatever libssl is on the path: a 3.x SSL_ctrl given a
        // 1.1 SSL* would be undefined behaviour, so only a runtime on 3.x qualifies.
        long version = SafeEvpPKeyHandle.OpenSslVersion;
        return version >> 28 == 3 ? null : $"the runtime loaded OpenSSL 0x{version:x}; only 3.x is handled";
    }

    /// <summary>Null when the mode was set; otherwise why not (nothing was changed then).</summary>
    private static string? Enable(object? context)
    {
        if (ReferenceEquals(context, Missing.Value))
        {
            return $"SslStream.{SecurityContextField} not found";
        }

        if (context is not SafeHandle handle || !IsOpenSslHandle(handle))
        {
            return $"SslStream.{SecurityContextField} is {context?.GetType().FullName ?? "null"}, not {OpenSslHandleType}";
        }

        long? mode = Control(handle, ReleaseBuffers);
        return mode is { } set && (set & ReleaseBuffers) != 0 ? null : $"SSL_ctrl(SSL_CTRL_MODE) answered {mode?.ToString("x", null) ?? "nothing (closed handle)"}";
    }

    private static bool IsOpenSslHandle(SafeHandle handle) => handle.GetType().FullName == OpenSslHandleType;

    /// <summary>SSL_ctrl(ssl, SSL_CTRL_MODE, <paramref name="mode"/>, NULL) with the handle held open; null when closed.</summary>
    private static long? Control(SafeHandle handle, long mode)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            IntPtr ssl = handle.DangerousGetHandle();
            return ssl == IntPtr.Zero ? null : Native.SslCtrl(ssl, SslCtrlMode, (nint)mode, IntPtr.Zero);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static class Native
    {
        // long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg): C long is pointer-sized on Linux, hence nint.
        [DllImport(LibSsl3, EntryPoint = "SSL_ctrl")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint SslCtrl(IntPtr ssl, int cmd, nint larg, IntPtr parg);
    }
}
