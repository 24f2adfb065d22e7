using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// The way into an accepted <see cref="SslStream"/>'s OpenSSL connection: SslStream's private
/// security context, whose handle on Linux is the SSL*, and the libssl/libcrypto 3.x calls made on it.
/// <see cref="Unsupported"/> says, once per process, why this runtime cannot be reached this way.
/// </summary>
internal static class OpenSslAccess
{
    /// <summary>The private SslStream field that holds the platform's security context (dotnet/runtime, SslStream.Protocol.cs).</summary>
    internal const string SecurityContextField = "_securityContext";

    /// <summary>The Linux (OpenSSL) security context: a SafeHandle whose handle is the SSL*.</summary>
    internal const string OpenSslHandleType = "Microsoft.Win32.SafeHandles.SafeSslHandle";

    private const string LibSsl3 = "libssl.so.3";

    private const string LibCrypto3 = "libcrypto.so.3";

    /// <summary>Every libssl export called here; a runtime whose libssl lacks one is not tried.</summary>
    internal static readonly string[] SslExports =
        ["SSL_ctrl", "SSL_get_SSL_CTX", "SSL_CTX_ctrl", "SSL_CTX_set_options", "SSL_CTX_get_options", "SSL_CTX_set_num_tickets", "SSL_get_rbio", "SSL_get_wbio"];

    /// <summary>Every libcrypto export called here.</summary>
    internal static readonly string[] CryptoExports = ["BIO_ctrl", "BIO_method_type", "BUF_MEM_new"];

    // Reflection, not [UnsafeAccessor]: the field's type is internal, and .NET 10's UnsafeAccessorType
    // does not cover a field of an internal type. A constant name on typeof(SslStream) is visible to
    // the trimmer, so NativeAOT keeps the field.
    private static readonly FieldInfo? s_securityContext =
        typeof(SslStream).GetField(SecurityContextField, BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Why this process cannot reach OpenSSL through SslStream (checked once), or null when it may try.</summary>
    public static string? Unsupported { get; } = FindUnsupported();

    /// <summary>The stream's security context; null where <see cref="Unsupported"/> is set.</summary>
    public static object? SecurityContext(SslStream stream) => Unsupported is null ? s_securityContext!.GetValue(stream) : null;

    /// <summary>Null when <paramref name="context"/> is an OpenSSL handle; otherwise what it is instead.</summary>
    public static string? NotOpenSsl(object? context) =>
        context is SafeHandle handle && handle.GetType().FullName == OpenSslHandleType
            ? null
            : $"SslStream.{SecurityContextField} is {context?.GetType().FullName ?? "null"}, not {OpenSslHandleType}";

    /// <summary>Runs <paramref name="use"/> on the SSL* with the handle held open (it cannot be freed meanwhile).</summary>
    /// <exception cref="ObjectDisposedException">The handle was already closed.</exception>
    public static T WithSsl<T>(SafeHandle handle, Func<IntPtr, T> use)
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

    /// <summary>
    /// What OpenSSL holds for <paramref name="stream"/> (tests and the shape test): its SSL* mode, SSL_CTX*,
    /// the context's options and cache mode, and the bytes in its two memory BIOs' buffers; null when unreachable.
    /// </summary>
    internal static OpenSslState? Inspect(SslStream stream)
    {
        if (SecurityContext(stream) is not SafeHandle handle || NotOpenSsl(handle) is not null)
        {
            return null;
        }

        return WithSsl(handle, ssl =>
        {
            IntPtr context = Native.SslGetSslCtx(ssl);
            // A ctrl with 0 ORs nothing in and answers the value as it is.
            return new OpenSslState(
                Native.SslCtrl(ssl, Native.SslCtrlMode, 0, IntPtr.Zero), context, Native.SslCtxGetOptions(context),
                Native.SslCtxCtrl(context, Native.SslCtrlGetSessionCacheMode, 0, IntPtr.Zero),
                MemoryBio.Bytes(Native.SslGetRbio(ssl)), MemoryBio.Bytes(Native.SslGetWbio(ssl)));
        });
    }

    /// <summary>Null when this process may try: Linux, the runtime on OpenSSL 3.x, the field and the exports present.</summary>
    private static string? FindUnsupported()
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

        return MissingExport(LibSsl3, SslExports) ?? MissingExport(LibCrypto3, CryptoExports);
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

    // C long is pointer-sized on Linux, hence nint; uint64_t is ulong; size_t is nuint.
    internal static class Native
    {
        // openssl/bio.h (3.x): BIO_TYPE_MEM, BIO_CTRL_PENDING, BIO_C_SET_BUF_MEM, BIO_C_GET_BUF_MEM_PTR, BIO_CLOSE.
        public const int BioTypeMem = 1 | 0x0400;
        public const int BioCtrlPending = 10;
        public const int BioSetBufMem = 114;
        public const int BioGetBufMemPtr = 115;
        public const int BioClose = 1;

        // openssl/ssl.h (3.x). SSL_set_mode and SSL_CTX_set_session_cache_mode are macros over the ctrl calls.
        public const int SslCtrlMode = 33;
        public const int SslCtrlSetSessionCacheMode = 44;
        public const int SslCtrlGetSessionCacheMode = 45;

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

/// <summary>What <see cref="OpenSslAccess.Inspect"/> read from one connection's OpenSSL objects.</summary>
internal readonly record struct OpenSslState(long Mode, IntPtr Context, ulong ContextOptions, long CacheMode, long ReadBioBytes, long WriteBioBytes);
