using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire;

/// <summary>
/// Two OpenSSL settings .NET offers no option for, applied to each accepted <see cref="SslStream"/>
/// right after its handshake, while no read or write is in flight (issue 9, idle memory):
/// <list type="number">
/// <item>SSL_MODE_RELEASE_BUFFERS on the connection, as nginx sets it: OpenSSL frees its ~17 KiB read
/// and ~17 KiB write buffers whenever a record has been fully read or written, so an idle keep-alive
/// connection holds neither (5,000 idle connections: 62 to 30 KiB malloc'd each). With it, the two
/// memory BIOs .NET passes records through get fresh buffers, dropping the room their handshake
/// flights took (<see cref="ShrinkMemoryBio"/>; about 2 KiB of RSS per idle connection).</item>
/// <item>No session resumption on its SSL_CTX (no tickets, no session cache). Every connection must
/// present and prove its key (a resumed session reports no client certificate on .NET/Linux), which
/// used to be obtained with AllowTlsResume = false; but .NET then builds a fresh SSL_CTX per connection
/// (~12 KiB each, and SSL_CTX_new's cost in every handshake). With resumption forbidden here instead,
/// the acceptor can let .NET share one cached SSL_CTX (<see cref="CanShareContexts"/>).</item>
/// </list>
/// The SSL* is the handle of the SslStream's private security context (a SafeSslHandle on Linux).
/// Best effort and never fatal: on another platform, OpenSSL major version or runtime shape, nothing
/// is changed, <see cref="CanShareContexts"/> turns false for good (back to a context per connection)
/// and that is logged once at Debug.
/// </summary>
internal sealed class OpenSslTuning(ILogger logger)
{
    /// <summary>The private SslStream field that holds the platform's security context (dotnet/runtime, SslStream.Protocol.cs).</summary>
    private const string SecurityContextField = "_securityContext";

    /// <summary>The Linux (OpenSSL) security context: a SafeHandle whose handle is the SSL*.</summary>
    private const string OpenSslHandleType = "Microsoft.Win32.SafeHandles.SafeSslHandle";

    private const string LibSsl3 = "libssl.so.3";

    private const string LibCrypto3 = "libcrypto.so.3";

    // openssl/bio.h (3.x): BIO_TYPE_MEM, BIO_CTRL_PENDING, BIO_C_SET_BUF_MEM, BIO_CLOSE.
    private const int BioTypeMem = 1 | 0x0400;
    private const int BioCtrlPending = 10;
    private const int BioSetBufMem = 114;
    private const int BioGetBufMemPtr = 115;
    private const int BioClose = 1;

    // openssl/ssl.h (3.x). SSL_set_mode and SSL_CTX_set_session_cache_mode are macros over the ctrl calls.
    private const int SslCtrlMode = 33;
    private const int SslCtrlSetSessionCacheMode = 44;
    private const int SslCtrlGetSessionCacheMode = 45;

    /// <summary>SSL_MODE_RELEASE_BUFFERS.</summary>
    internal const long ReleaseBuffers = 0x10;

    /// <summary>SSL_OP_NO_TICKET: no stateless tickets, and in TLS 1.3 tickets are then looked up in the (disabled) cache only.</summary>
    internal const ulong NoTicket = 1UL << 14;

    /// <summary>SSL_SESS_CACHE_OFF | SSL_SESS_CACHE_NO_INTERNAL: nothing stored, nothing looked up, even a session stored earlier.</summary>
    internal const long NoSessionCache = 0x0300;

    // Reflection, not [UnsafeAccessor]: the field's type is internal, and .NET 10's UnsafeAccessorType
    // does not cover a field of an internal type (the runtime throws NotSupportedException, "Invalid
    // usage of UnsafeAccessorTypeAttribute"). A constant name on typeof(SslStream) is visible to the
    // trimmer, so NativeAOT keeps the field; a runtime without it leaves this null (the fallback).
    private static readonly FieldInfo? s_securityContext =
        typeof(SslStream).GetField(SecurityContextField, BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Why this process cannot tune at all (checked once), or null when it may try.</summary>
    private static readonly string? s_unsupported = Unsupported();

    private int _unavailable; // 1 once a connection found the shape unexpected: logged once, never tried again

    /// <summary>
    /// True while connections may share .NET's cached SSL_CTX: every handshake so far could forbid
    /// resumption on it. False for good after the first that could not.
    /// </summary>
    public bool CanShareContexts => s_unsupported is null && Volatile.Read(ref _unavailable) == 0;

    /// <summary>
    /// Sets both settings on <paramref name="stream"/>'s OpenSSL connection and context; true when set.
    /// Call after the handshake and before the first read or write, never concurrently with either.
    /// </summary>
    public bool TryApply(SslStream stream) => TryApply(s_unsupported is null ? s_securityContext!.GetValue(stream) : null);

    /// <summary>As <see cref="TryApply(SslStream)"/> on a security context already in hand (tests give it wrong shapes).</summary>
    internal bool TryApply(object? securityContext)
    {
        if (s_unsupported is not null)
        {
            return Settle(s_unsupported);
        }

        if (Volatile.Read(ref _unavailable) != 0)
        {
            return false;
        }

        string? unexpected;
        try
        {
            unexpected = Apply(securityContext);
        }
        catch (Exception ex)
        {
            // A memory saving must never cost a connection: whatever went wrong, change nothing more.
            unexpected = $"{ex.GetType().Name}: {ex.Message}";
        }

        return Settle(unexpected);
    }

    /// <summary>
    /// What OpenSSL holds for <paramref name="stream"/>: its SSL* mode, SSL_CTX*, the context's options and
    /// cache mode, and the bytes allocated in its two memory BIOs' buffers; null when unreachable.
    /// </summary>
    internal static (long Mode, IntPtr Context, ulong ContextOptions, long CacheMode, long ReadBioBytes, long WriteBioBytes)? Inspect(SslStream stream)
    {
        if (s_unsupported is not null || s_securityContext?.GetValue(stream) is not SafeHandle handle || !IsOpenSslHandle(handle))
        {
            return null;
        }

        return WithSsl(handle, ssl =>
        {
            IntPtr context = Native.SslGetSslCtx(ssl);
            // A ctrl with 0 ORs nothing in and answers the value as it is.
            return ((long)Native.SslCtrl(ssl, SslCtrlMode, 0, IntPtr.Zero), context, Native.SslCtxGetOptions(context),
                (long)Native.SslCtxCtrl(context, SslCtrlGetSessionCacheMode, 0, IntPtr.Zero),
                MemoryBioBytes(Native.SslGetRbio(ssl)), MemoryBioBytes(Native.SslGetWbio(ssl)));
        });
    }

    /// <summary>
    /// Gives <paramref name="stream"/>'s two memory BIOs fresh empty buffers where one holds more than
    /// <see cref="IdleBioBytes"/>: their buffers only ever grow, so after one big answer (16 KiB TLS
    /// records) or upload an idle keep-alive connection would keep ~17 KiB or more for its whole life.
    /// For a connection about to wait for its next request after moving that much; call only while
    /// no read or write is in flight on the stream. Does nothing where <see cref="TryApply(SslStream)"/> cannot work.
    /// </summary>
    public static void TrimIdleBuffers(SslStream stream)
    {
        if (s_unsupported is not null || s_securityContext!.GetValue(stream) is not SafeHandle handle || !IsOpenSslHandle(handle))
        {
            return;
        }

        try
        {
            WithSsl(handle, static ssl =>
            {
                if (ssl != IntPtr.Zero)
                {
                    ShrinkMemoryBio(Native.SslGetRbio(ssl), IdleBioBytes);
                    ShrinkMemoryBio(Native.SslGetWbio(ssl), IdleBioBytes);
                }

                return 0;
            });
        }
        catch (ObjectDisposedException)
        {
            // The connection closed meanwhile: its BIOs went with it.
        }
    }

    /// <summary>A memory BIO buffer up to this size is kept between requests: small answers would only grow it again.</summary>
    internal const long IdleBioBytes = 1024;

    private bool Settle(string? unexpected)
    {
        if (unexpected is null)
        {
            return true;
        }

        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
        {
            WireLog.OpenSslUntuned(logger, unexpected);
        }

        return false;
    }

    /// <summary>Null when this process may try: Linux, the runtime on OpenSSL 3.x, the field and the exports present.</summary>
    private static string? Unsupported()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux: the platform's TLS is not OpenSSL";
        }

        // The OpenSSL the runtime loaded, not whatever libssl is on the path: a 3.x call given a 1.1
        // SSL* would be undefined behaviour, so only a runtime on 3.x qualifies.
        long version = SafeEvpPKeyHandle.OpenSslVersion;
        if (version >> 28 != 3)
        {
            return $"the runtime loaded OpenSSL 0x{version:x}; only 3.x is handled";
        }

        if (s_securityContext is null)
        {
            return $"SslStream.{SecurityContextField} not found";
        }

        return MissingExport(LibSsl3, ["SSL_ctrl", "SSL_get_SSL_CTX", "SSL_CTX_ctrl", "SSL_CTX_set_options", "SSL_CTX_get_options", "SSL_CTX_set_num_tickets", "SSL_get_rbio", "SSL_get_wbio"])
            ?? MissingExport(LibCrypto3, ["BIO_ctrl", "BIO_method_type", "BUF_MEM_new"]);
    }

    /// <summary>Null when <paramref name="library"/> loads and has every one of <paramref name="exports"/>; else what is missing.</summary>
    private static string? MissingExport(string library, string[] exports)
    {
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            return $"{library} not found";
        }

        foreach (string export in exports)
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
            {
                return $"{library} has no {export}";
            }
        }

        return null;
    }

    /// <summary>Null when both settings were made; otherwise why not.</summary>
    private static string? Apply(object? context)
    {
        if (context is not SafeHandle handle || !IsOpenSslHandle(handle))
        {
            return $"SslStream.{SecurityContextField} is {context?.GetType().FullName ?? "null"}, not {OpenSslHandleType}";
        }

        try
        {
            return WithSsl(handle, ApplyToSsl);
        }
        catch (ObjectDisposedException)
        {
            return "the SSL handle was already closed";
        }
    }

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
        Native.SslCtxCtrl(sslContext, SslCtrlSetSessionCacheMode, (nint)NoSessionCache, IntPtr.Zero);
        noResumption &= Native.SslCtxCtrl(sslContext, SslCtrlGetSessionCacheMode, 0, IntPtr.Zero) == NoSessionCache;
        noResumption &= Native.SslCtxSetNumTickets(sslContext, 0) == 1;
        if (!noResumption)
        {
            return "SSL_CTX did not take SSL_OP_NO_TICKET, session cache off and zero tickets";
        }

        long mode = Native.SslCtrl(ssl, SslCtrlMode, (nint)ReleaseBuffers, IntPtr.Zero);
        if ((mode & ReleaseBuffers) == 0)
        {
            return $"SSL_ctrl(SSL_CTRL_MODE) answered {mode:x}";
        }

        ShrinkMemoryBio(Native.SslGetRbio(ssl));
        ShrinkMemoryBio(Native.SslGetWbio(ssl));
        return null;
    }

    /// <summary>The bytes allocated for a memory BIO's buffer (BUF_MEM's max: after its length and data), -1 when not one.</summary>
    private static long MemoryBioBytes(IntPtr bio)
    {
        IntPtr buffer = IntPtr.Zero;
        if (bio == IntPtr.Zero || Native.BioMethodType(bio) != BioTypeMem || Native.BioCtrlPtr(bio, BioGetBufMemPtr, 0, ref buffer) != 1 || buffer == IntPtr.Zero)
        {
            return -1;
        }

        return Marshal.ReadInt64(buffer, 2 * IntPtr.Size);
    }

    /// <summary>
    /// .NET passes TLS records through two memory BIOs, whose buffers only ever grow: after the
    /// handshake each still holds room for its biggest flight (the server's certificate flight, the
    /// client's), about 2 KiB per connection for its whole life. With nothing pending in it (and more
    /// than <paramref name="keepUpTo"/> bytes held), a BIO is given a fresh empty buffer (the old one
    /// is freed), which grows again only to the records of the requests and answers that follow.
    /// </summary>
    private static void ShrinkMemoryBio(IntPtr bio, long keepUpTo = -1)
    {
        if (bio == IntPtr.Zero || Native.BioMethodType(bio) != BioTypeMem || Native.BioCtrl(bio, BioCtrlPending, 0, IntPtr.Zero) != 0
            || MemoryBioBytes(bio) <= keepUpTo)
        {
            return;
        }

        IntPtr empty = Native.BufMemNew();
        if (empty != IntPtr.Zero)
        {
            Native.BioCtrl(bio, BioSetBufMem, BioClose, empty); // frees the old buffer; the BIO owns the new one
        }
    }

    /// <summary>Runs <paramref name="use"/> on the SSL* with the handle held open (it cannot be freed meanwhile).</summary>
    private static T WithSsl<T>(SafeHandle handle, Func<IntPtr, T> use)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return use(handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static bool IsOpenSslHandle(SafeHandle handle) => handle.GetType().FullName == OpenSslHandleType;

    // C long is pointer-sized on Linux, hence nint; uint64_t is ulong; size_t is nuint.
    private static class Native
    {
        [DllImport(LibSsl3, EntryPoint = "SSL_ctrl")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint SslCtrl(IntPtr ssl, int cmd, nint larg, IntPtr parg);

        [DllImport(LibSsl3, EntryPoint = "SSL_get_rbio")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr SslGetRbio(IntPtr ssl);

        [DllImport(LibSsl3, EntryPoint = "SSL_get_wbio")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr SslGetWbio(IntPtr ssl);

        [DllImport(LibCrypto3, EntryPoint = "BIO_method_type")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int BioMethodType(IntPtr bio);

        [DllImport(LibCrypto3, EntryPoint = "BIO_ctrl")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint BioCtrl(IntPtr bio, int cmd, nint larg, IntPtr parg);

        [DllImport(LibCrypto3, EntryPoint = "BIO_ctrl")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint BioCtrlPtr(IntPtr bio, int cmd, nint larg, ref IntPtr parg);

        [DllImport(LibCrypto3, EntryPoint = "BUF_MEM_new")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr BufMemNew();

        [DllImport(LibSsl3, EntryPoint = "SSL_get_SSL_CTX")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr SslGetSslCtx(IntPtr ssl);

        [DllImport(LibSsl3, EntryPoint = "SSL_CTX_ctrl")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint SslCtxCtrl(IntPtr context, int cmd, nint larg, IntPtr parg);

        [DllImport(LibSsl3, EntryPoint = "SSL_CTX_set_options")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern ulong SslCtxSetOptions(IntPtr context, ulong options);

        [DllImport(LibSsl3, EntryPoint = "SSL_CTX_get_options")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern ulong SslCtxGetOptions(IntPtr context);

        [DllImport(LibSsl3, EntryPoint = "SSL_CTX_set_num_tickets")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SslCtxSetNumTickets(IntPtr context, nuint tickets);
    }
}
