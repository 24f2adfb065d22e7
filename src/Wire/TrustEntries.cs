using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>A user CA: client certificates that chain to it are let in under its <paramref name="Name"/>.</summary>
/// <param name="Name">The name rules refer to (<c>ca:NAME</c>).</param>
/// <param name="Certificate">The CA certificate (public part only is needed).</param>
public sealed record TrustedCa(string Name, X509Certificate2 Certificate);

/// <summary>A whitelisted key: a client presenting it is let in even if self-signed.</summary>
/// <param name="Name">The whitelist entry's name (for logs and rules).</param>
/// <param name="Pin">The key pin, <c>sha256//base64</c>.</param>
public sealed record PinnedKey(string Name, string Pin);
