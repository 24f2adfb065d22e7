using System.Net.WebSockets;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// What the app's handler (and the client's caller) holds: the framework's WebSocket with two things
/// it lacks — a message size limit (1009, RFC 6455 §7.4.1) and the <see cref="WebSocketMetrics"/>
/// counts. Framing, keep-alive and close handling stay the framework's.
/// </summary>
internal sealed class GuardedWebSocket(WebSocket inner, int maxMessageBytes, string side) : WebSocket
{
    private long _receivedInMessage;
    private int _disposed;
    private Task? _declaredTooBig; // the 1009 close sent when a frame header declared too much

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

    public override string? CloseStatusDescription => inner.CloseStatusDescription;

    public override WebSocketState State => inner.State;

    public override string? SubProtocol => inner.SubProtocol;

    public override void Abort() => inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, inner.CloseStatus, inner.CloseStatusDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ValueWebSocketReceiveResult result;
        try
        {
            result = await inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (KeepAliveFailure.Is(ex))
        {
            WebSocketMetrics.KeepAliveFailed(side);
            throw;
        }
        catch (Exception ex) when (_declaredTooBig is { } closing && ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The abort after our 1009 ended this receive: report it as the limit, like a counted overrun.
            await closing.ConfigureAwait(false);
            throw new WebSocketException(WebSocketError.Faulted, $"message declared larger than {maxMessageBytes} bytes: closed with 1009 (message too big)", ex);
        }

        if (result.MessageType == WebSocketMessageType.Close)
        {
            return result;
        }

        _receivedInMessage += result.Count;
        WebSocketMetrics.Transferred(side, "in", result.Count, result.EndOfMessage);
        if (_receivedInMessage > maxMessageBytes)
        {
            await MessageTooBig.CloseAndThrowAsync(inner, maxMessageBytes).ConfigureAwait(false);
        }

        if (result.EndOfMessage)
        {
            _receivedInMessage = 0;
        }

        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer, messageType, endOfMessage ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None, cancellationToken);

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        await inner.SendAsync(buffer, messageType, messageFlags, cancellationToken).ConfigureAwait(false);
        WebSocketMetrics.Transferred(side, "out", buffer.Length, (messageFlags & WebSocketMessageFlags.EndOfMessage) != 0);
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            inner.Dispose();
            WebSocketMetrics.StreamClosed(side);
        }
    }

    /// <summary>
    /// Closes with 1009 as soon as <paramref name="limit"/> (fed by the stream under the framework)
    /// sees a header that declares more than the limit, without waiting for its payload; a pending
    /// receive then ends with <see cref="WebSocketException"/>.
    /// </summary>
    public GuardedWebSocket WatchDeclaredSizes(DeclaredSizeLimit limit)
    {
        // Off the read that saw the header: the close takes the send lock and aborts the stream under that read.
        limit.OnExceeded = () => _declaredTooBig ??= Task.Run(() => MessageTooBig.CloseAsync(inner));
        return this;
    }

    /// <summary>Counts the stream as open; paired with <see cref="Dispose"/>.</summary>
    public GuardedWebSocket Opened()
    {
        WebSocketMetrics.StreamOpened(side);
        return this;
    }
}
