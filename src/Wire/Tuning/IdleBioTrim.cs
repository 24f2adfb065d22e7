using System.Net.Security;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using static Gatehouse.Wire.Tuning.OpenSslAccess;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// Gives a connection's two memory BIOs fresh empty buffers where one holds more than
/// <see cref="IdleBioBytes"/>: an idle keep-alive connection would otherwise keep room for the
/// biggest records it carried for its whole life (up to 17 KiB each after a big answer or upload,
/// issue 9; still ~1 KiB after one small request and answer, issue 22).
/// </summary>
internal sealed class IdleBioTrim(ILogger logger)
{
    internal const string Name = "idle BIO trim";

    /// <summary>A memory BIO buffer up to this size is kept while idle: none, as nginx's socket BIOs keep none.</summary>
    internal const long IdleBioBytes = 0;

    private readonly FirstFailure _failure = new(logger, Name);

    /// <summary>For a connection about to wait for its next request; only while no read or write is in flight on it.</summary>
    public void Trim(SslStream stream)
    {
        if (OpenSslAccess.Unsupported is not null || _failure.HasFailed)
        {
            return;
        }

        string? unexpected;
        try
        {
            object? context = SecurityContext(stream);
            unexpected = NotOpenSsl(context) ?? WithSsl((SafeHandle)context!, static ssl =>
            {
                if (ssl == IntPtr.Zero)
                {
                    return "no SSL behind the handle";
                }

                MemoryBio.Shrink(Native.SslGetRbio(ssl), IdleBioBytes);
                MemoryBio.Shrink(Native.SslGetWbio(ssl), IdleBioBytes);
                return null;
            });
        }
        catch (ObjectDisposedException)
        {
            return; // the connection closed meanwhile: its BIOs went with it
        }
        catch (Exception ex)
        {
            unexpected = $"{ex.GetType().Name}: {ex.Message}";
        }

        if (unexpected is not null)
        {
            _failure.Record(unexpected);
        }
    }
}
