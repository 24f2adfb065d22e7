namespace Gatehouse.Discovery;

/// <summary>A datagram that is not a well-formed DNS message within discovery's bounds; it is dropped whole.</summary>
internal sealed class DnsFormatException : Exception
{
    public DnsFormatException()
    {
    }

    public DnsFormatException(string message)
        : base(message)
    {
    }

    public DnsFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
