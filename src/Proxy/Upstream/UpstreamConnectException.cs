namespace Gatehouse.Proxy;

/// <summary>No node could be connected: every healthy one refused, failed, or timed out.</summary>
internal sealed class UpstreamConnectException : Exception
{
    public UpstreamConnectException()
    {
    }

    public UpstreamConnectException(string message)
        : base(message)
    {
    }

    public UpstreamConnectException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public UpstreamConnectException(string message, bool timedOut, Exception? innerException)
        : base(message, innerException)
    {
        TimedOut = timedOut;
    }

    /// <summary>
    /// What the client is told instead of the generic reason, when the failure says something it
    /// can act on (a peer whose key matches none of its pins, issue 8); null otherwise.
    /// </summary>
    public string? ClientReason { get; init; }

    /// <summary>True when the last failure was a timeout (connect, or waiting for a free slot): answer 504, not 502.</summary>
    public bool TimedOut { get; }
}
