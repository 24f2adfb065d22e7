using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Http1;

/// <summary>
/// A file range to a socket with sendfile(2), through <see cref="Socket.SendPacketsAsync"/>: the only
/// public .NET API that takes an open file with an offset and a length (<see cref="Socket.SendFileAsync(string, CancellationToken)"/>
/// takes a path, which could name another file by now, and has no range). On Linux the runtime
/// sends file elements with sendfile, looping over partial sends itself.
/// </summary>
internal static class SocketFileSender
{
    // A packet element's length is an int; larger ranges go in several elements of this size.
    private const int MaxElementBytes = 1 << 30;

    public static async Task SendAsync(Socket socket, SafeFileHandle file, long offset, long count, CancellationToken cancellationToken)
    {
        // Cancelling mid-body can only end with the connection closed: closing the socket aborts the send.
        using var abort = cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), socket);

        // bufferSize 0: no FileStream buffer, the stream only carries the handle to the runtime.
        // Not disposed: disposing would close the caller's handle; without a buffer there is nothing to flush.
#pragma warning disable CA2000
        var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
#pragma warning restore CA2000
        GC.SuppressFinalize(stream);
        using var operation = new SocketAsyncEventArgs();
        var completed = new OperationCompletion();
        operation.Completed += completed.OnCompleted;
        while (count > 0)
        {
            var length = (int)Math.Min(count, MaxElementBytes);
            operation.SendPacketsElements = [new SendPacketsElement(stream, offset, length, endOfPacket: true)];
            completed.Reset();
            try
            {
                if (!socket.SendPacketsAsync(operation))
                {
                    completed.OnCompleted(socket, operation);
                }
            }
            catch (ObjectDisposedException ex)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new IOException("the connection was closed", ex);
            }

            await completed.Task.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (operation.SocketError != SocketError.Success)
            {
                throw new IOException($"sendfile failed: {operation.SocketError}", new SocketException((int)operation.SocketError));
            }

            if (operation.BytesTransferred != length)
            {
                // A file shorter than its range (truncated under us): the response cannot be finished honestly.
                throw new IOException($"sendfile sent {operation.BytesTransferred} of {length} bytes");
            }

            offset += length;
            count -= length;
        }
    }

    /// <summary>Turns the event-args callback into an awaitable, once per element.</summary>
    private sealed class OperationCompletion
    {
        private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _source.Task;

        public void Reset() => _source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnCompleted(object? sender, SocketAsyncEventArgs e) => _source.TrySetResult();
    }
}
