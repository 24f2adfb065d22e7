using System.Net;

namespace Gatehouse.Pairing;

/// <summary>A confirmed pairing: the other device and the address it was reached at or came from.</summary>
internal sealed record PairingResult(PairedDevice Device, EndPoint Address);
