using System.Net.Security;
using System.Net.Sockets;
using Gatehouse.Wire;

namespace Gatehouse.Http1;

/// <summary>
/// Closing while the client is still sending (an early 403/413/507 before its body, or a
/// rejected request) would make the kernel answer the unread bytes with a reset, and the
/// client could lose our answer before reading it. So: send close_notify and FIN first, then
/// read and discard for a bounded time and amount (as nginx's lingering_close does).
/// </summary>
internal static class LingeringClose
{
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(2);
    private const long MaxBytes = 4 * 1024 * 1024;

    public static async Task RunAsync(WireConnection connection)
    {
        var pool = connection.Buffers.Arrays;
        var scratch = pool.Rent(16 * 1024);
        try
        {
            using var timeout = new CancellationTokenSource(MaxTime);
            if (connection.Stream is SslStream tls)
            {
                await tls.ShutdownAsync().WaitAsync(timeout.Token).ConfigureAwait(false);
            }

            connection.Socket.Shutdown(SocketShutdown.Send);
            var total = 0L;
            while (total < MaxBytes)
            {
                var read = await connection.Socket.ReceiveAsync(scratch, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client left or took too long: closing now is all that is left to do.
        }
        finally
        {
            pool.Return(scratch);
        }
    }
}
