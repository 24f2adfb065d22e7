using System.Security.Authentication;

namespace Gatehouse.Proxy;

/// <summary>
/// A TLS upstream presented a key that is none of its pins (issue 8): whoever answers at that
/// address is not the peer. Treated as a failed connect to that address; nothing was sent.
/// </summary>
internal sealed class UpstreamPinMismatchException : AuthenticationException
{
    /// <summary>What the client of the link is told (502).</summary>
    public const string ClientReason = "peer key does not match its pins";

    public UpstreamPinMismatchException()
        : base(ClientReason)
    {
    }

    public UpstreamPinMismatchException(string message)
        : base(message)
    {
    }

    public UpstreamPinMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UpstreamPinMismatchException(string address, string? presentedPin, Exception? innerException)
        : base($"{address} presented key {presentedPin ?? "(no certificate)"}, which is none of the peer's pins", innerException)
    {
        PresentedPin = presentedPin;
    }

    /// <summary>The pin of the key the server presented, or null when it presented none.</summary>
    public string? PresentedPin { get; }
}
