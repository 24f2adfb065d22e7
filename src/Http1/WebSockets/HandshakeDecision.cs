namespace Gatehouse.Http1.WebSockets;

/// <summary>The verdict on one upgrade request: 101 with what to answer, or a refusal status.</summary>
internal readonly record struct HandshakeDecision(int StatusCode, string Reason, string? Accept, string? SubProtocol)
{
    public bool IsAccepted => StatusCode == 101;

    /// <summary>426 answers carry <c>Upgrade: websocket</c> (RFC 9110 §15.5.22 requires an Upgrade field).</summary>
    public bool AdvertiseUpgrade => StatusCode == 426;

    /// <summary>A version refusal names the version we speak (RFC 6455 §4.4).</summary>
    public bool AdvertiseVersion { get; init; }

    public static HandshakeDecision Accepted(string accept, string? subProtocol) => new(101, "switching to websocket", accept, subProtocol);

    public static HandshakeDecision Refused(int status, string reason) => new(status, reason, null, null);
}
