using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Pairing;

/// <summary>
/// The cryptography of pairing (issue 21 item 2): the connector's commitment to its nonce, and the
/// 6-digit code both people compare. The connector commits to its nonce before it sees the
/// listener's, and the listener sends its nonce before the connector reveals: neither side (nor a
/// man in the middle running one session with each) can steer the code, so a forger has one
/// guess in 10^6 per attempt. Both pins are in the code, so a middleman whose key differs on
/// either side shows a code unrelated to the honest one.
/// </summary>
internal static class PairingCode
{
    /// <summary>Bytes of each side's nonce.</summary>
    public const int NonceBytes = 32;

    /// <summary>Digits of the code people compare.</summary>
    public const int Digits = 6;

    private const ulong Modulus = 1_000_000;

    private static ReadOnlySpan<byte> Label => "gatehouse-pair-v1"u8;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceBytes);

    /// <summary>SHA-256(label ‖ nonceA ‖ pinA ‖ pinB); pins are fixed-length strings, so the concatenation is unambiguous.</summary>
    public static byte[] Commit(ReadOnlySpan<byte> connectorNonce, string connectorPin, string listenerPin)
    {
        RequireNonce(connectorNonce);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Label);
        hash.AppendData(connectorNonce);
        hash.AppendData(Encoding.UTF8.GetBytes(connectorPin));
        hash.AppendData(Encoding.UTF8.GetBytes(listenerPin));
        return hash.GetHashAndReset();
    }

    /// <summary>True when the revealed nonce opens the commitment for these two pins (constant time).</summary>
    public static bool Opens(ReadOnlySpan<byte> commitment, ReadOnlySpan<byte> connectorNonce, string connectorPin, string listenerPin) =>
        connectorNonce.Length == NonceBytes
        && CryptographicOperations.FixedTimeEquals(commitment, Commit(connectorNonce, connectorPin, listenerPin));

    /// <summary>
    /// Six decimal digits: HMAC-SHA256(key = nonceA ‖ nonceB, label ‖ lower pin ‖ higher pin), the
    /// first 8 bytes big-endian mod 10^6 (the bias of 2^64 mod 10^6 is below 10^-13). The pins are
    /// sorted so both sides compute the same code whichever role each played.
    /// </summary>
    public static string Derive(ReadOnlySpan<byte> connectorNonce, ReadOnlySpan<byte> listenerNonce, string pinA, string pinB)
    {
        RequireNonce(connectorNonce);
        RequireNonce(listenerNonce);
        Span<byte> key = stackalloc byte[NonceBytes * 2];
        connectorNonce.CopyTo(key);
        listenerNonce.CopyTo(key[NonceBytes..]);
        var (low, high) = string.CompareOrdinal(pinA, pinB) <= 0 ? (pinA, pinB) : (pinB, pinA);
        var data = new byte[Label.Length + Encoding.UTF8.GetByteCount(low) + Encoding.UTF8.GetByteCount(high)];
        Label.CopyTo(data);
        var written = Label.Length + Encoding.UTF8.GetBytes(low, data.AsSpan(Label.Length));
        Encoding.UTF8.GetBytes(high, data.AsSpan(written));
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, data, mac);
        CryptographicOperations.ZeroMemory(key);
        var value = BinaryPrimitives.ReadUInt64BigEndian(mac) % Modulus;
        return value.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>"123 456": two groups are easier to read aloud and compare.</summary>
    public static string Display(string code) => code[..3] + " " + code[3..];

    /// <summary>
    /// Whether what the person typed (spaces allowed: "123 456") is the code; compared in constant
    /// time so a wrong guess learns nothing from how long the answer took.
    /// </summary>
    public static bool Matches(string typed, string code)
    {
        var digits = typed.Replace(" ", string.Empty, StringComparison.Ordinal).Trim();
        // The length is no secret (every code has six digits); only the digits are compared in constant time.
        return digits.Length == Digits
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(digits), Encoding.ASCII.GetBytes(code));
    }

    private static void RequireNonce(ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length != NonceBytes)
        {
            throw new ArgumentException($"a pairing nonce is {NonceBytes} bytes", nameof(nonce));
        }
    }
}
