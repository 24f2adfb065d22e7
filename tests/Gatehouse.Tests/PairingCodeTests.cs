using System.Security.Cryptography;
using Gatehouse.Pairing;

namespace Gatehouse.Tests;

/// <summary>The code people compare when pairing (issue 21 item 2).</summary>
public sealed class PairingCodeTests
{
    private static readonly string PinA = PeerDevices.RandomPin();
    private static readonly string PinB = PeerDevices.RandomPin();

    [Fact]
    public void TheCodeIsSixDigitsAndTheSameWhicheverWayThePinsAreGiven()
    {
        var (nonceA, nonceB) = (PairingCode.NewNonce(), PairingCode.NewNonce());

        var one = PairingCode.Derive(nonceA, nonceB, PinA, PinB);
        var other = PairingCode.Derive(nonceA, nonceB, PinB, PinA);

        Assert.Equal(one, other);
        Assert.Matches("^[0-9]{6}$", one);
    }

    [Fact]
    public void TheCodeChangesWithEitherNonceAndEitherPin()
    {
        var (nonceA, nonceB) = (PairingCode.NewNonce(), PairingCode.NewNonce());
        var code = PairingCode.Derive(nonceA, nonceB, PinA, PinB);
        var changed = 0;
        // One in 10^6 of these can collide by chance; 20 tries of each make a false failure vanishingly rare.
        for (var i = 0; i < 20; i++)
        {
            changed += PairingCode.Derive(PairingCode.NewNonce(), nonceB, PinA, PinB) != code ? 1 : 0;
            changed += PairingCode.Derive(nonceA, PairingCode.NewNonce(), PinA, PinB) != code ? 1 : 0;
            changed += PairingCode.Derive(nonceA, nonceB, PinA, PeerDevices.RandomPin()) != code ? 1 : 0;
        }

        Assert.True(changed >= 58, $"{changed} of 60 changed");
        Assert.NotEqual(PairingCode.Derive(nonceA, nonceB, PinA, PinB), PairingCode.Derive(nonceB, nonceA, PinA, PinB));
    }

    [Fact]
    public void TheCodeIsStableForKnownInputs()
    {
        // A fixed vector, so both ends of a pairing built from different versions agree (or this test says why not).
        var nonceA = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var nonceB = Enumerable.Range(32, 32).Select(i => (byte)i).ToArray();
        var pinA = "sha256//" + Convert.ToBase64String(new byte[32]);
        var pinB = "sha256//" + Convert.ToBase64String(Enumerable.Repeat((byte)0xff, 32).ToArray());
        var key = nonceA.Concat(nonceB).ToArray();
        // The lower pin first, ordinally: pinB is "sha256///…" and '/' (0x2F) sorts before 'A' (0x41).
        var data = "gatehouse-pair-v1"u8.ToArray().Concat(System.Text.Encoding.UTF8.GetBytes(pinB + pinA)).ToArray();
        var mac = HMACSHA256.HashData(key, data);
        var expected = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(mac) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(expected, PairingCode.Derive(nonceA, nonceB, pinA, pinB));
        Assert.Equal("204603", expected);
    }

    [Fact]
    public void TheCommitmentOpensOnlyWithItsNonceAndPins()
    {
        var nonce = PairingCode.NewNonce();
        var commitment = PairingCode.Commit(nonce, PinA, PinB);

        Assert.True(PairingCode.Opens(commitment, nonce, PinA, PinB));
        Assert.False(PairingCode.Opens(commitment, PairingCode.NewNonce(), PinA, PinB));
        Assert.False(PairingCode.Opens(commitment, nonce, PinB, PinA));
        Assert.False(PairingCode.Opens(commitment, nonce, PinA, PeerDevices.RandomPin()));
        Assert.False(PairingCode.Opens(commitment, nonce.AsSpan(0, 16), PinA, PinB));
    }

    [Theory]
    [InlineData("123456", true)]
    [InlineData("123 456", true)]
    [InlineData(" 123456 ", true)]
    [InlineData("123457", false)]
    [InlineData("12345", false)]
    [InlineData("1234567", false)]
    [InlineData("", false)]
    public void TypedCodesAreComparedByTheirDigits(string typed, bool matches) =>
        Assert.Equal(matches, PairingCode.Matches(typed, "123456"));
}
