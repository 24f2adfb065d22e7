using System.Security.Authentication;

namespace Gatehouse.Http1.WebSockets;

/// <summary>The server presented a key other than the one the caller pinned (DESIGN.md decision 1).</summary>
public sealed class ServerPinMismatchException : AuthenticationException
{
    public const string Text = "server key does not match the expected pin";

    public ServerPinMismatchException()
        : base(Text)
    {
    }

    public ServerPinMismatchException(string message)
        : base(message)
    {
    }

    public ServerPinMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ServerPinMismatchException(string expectedPin, string? actualPin, Exception? innerException)
        : base($"{Text} (expected {expectedPin}, got {actualPin ?? "no certificate"})", innerException)
    {
        ExpectedPin = expectedPin;
        ActualPin = actualPin;
    }

    public string? ExpectedPin { get; }

    /// <summary>The pin of the key the server presented, or null when it presented none.</summary>
    public string? ActualPin { get; }
}
