namespace Gatehouse.Pairing;

/// <summary>A pairing attempt failed: the message says why, for the person at the terminal.</summary>
internal sealed class PairingException : Exception
{
    public PairingException(string message)
        : base(message)
    {
    }

    public PairingException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public PairingException()
    {
    }
}
