using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Floor;

/// <summary>A receive under <c>depth</c> async methods, each awaiting the next, with pooled boxes as Gatehouse's are.</summary>
internal static class Layers
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<int> ReceiveAsync(int depth, Socket socket, Memory<byte> buffer) =>
        depth == 0
            ? await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)
            : await ReceiveAsync(depth - 1, socket, buffer).ConfigureAwait(false);
}
