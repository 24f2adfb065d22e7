namespace Gatehouse.Wire;

/// <summary>
/// What the gate presents and whom it lets in, swapped as one value on a reload so a handshake
/// never pairs the new server certificate with the old trust (or the other way round).
/// </summary>
/// <param name="Identity">The server certificate and key; null only when no listener speaks TLS.</param>
/// <param name="Trust">The CAs, whitelist and deny list client keys are judged by.</param>
/// <param name="Revocation">What the reload that made these keys says of principals still trusted, or null.</param>
internal sealed record GateKeys(ServerIdentity? Identity, ClientTrust Trust, RevocationCheck? Revocation = null);
