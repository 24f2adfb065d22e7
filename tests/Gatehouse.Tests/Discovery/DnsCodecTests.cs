using System.Net;
using Gatehouse.Discovery;

namespace Gatehouse.Tests.Discovery;

/// <summary>The multicast DNS codec (issue 21): what it writes it reads back, and anything malformed is refused whole.</summary>
public sealed class DnsCodecTests
{
    private const string PinB = "sha256//qGKl8AiuDQtXUN+VsCvKVt3w7jgI8VnORFMMmYOOxms=";

    private static byte[] Announcement(uint ttl = 120) => DnsMessageWriter.Response(GatehouseService.Records(
        new Announcement("phone", PinB, 8443, [IPAddress.Parse("fe80::1"), IPAddress.Parse("192.0.2.7")], ttl)));

    [Fact]
    public void AnAnnouncementReadsBackWithItsLinkLocalAddressZonedToTheInterface()
    {
        var message = DnsMessageReader.Read(Announcement());
        Assert.True(message.IsResponse);
        var seen = Assert.Single(GatehouseService.Read(message, interfaceIndex: 7));
        Assert.Equal("phone", seen.DeviceName);
        Assert.Equal(PinB, seen.Pin);
        Assert.Equal(8443, seen.Port);
        Assert.Equal(120u, seen.Ttl);
        Assert.Equal([new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), 7), IPAddress.Parse("192.0.2.7")], seen.Addresses);
    }

    [Fact]
    public void AQueryForTheServiceIsAnsweredAndOthersAreNot()
    {
        var query = DnsMessageReader.Read(DnsMessageWriter.Query([new DnsQuestion(GatehouseService.ServiceType, DnsType.Ptr)]));
        Assert.False(query.IsResponse);
        Assert.True(GatehouseService.Asks(query, "phone", PinB));
        var other = DnsMessageReader.Read(DnsMessageWriter.Query([new DnsQuestion(DnsName.Parse("_http._tcp.local"), DnsType.Ptr)]));
        Assert.False(GatehouseService.Asks(other, "phone", PinB));
    }

    [Fact]
    public void APairingAnnouncementIsNeverTakenForAGatewayNorTheOtherWayRound()
    {
        // A device waiting in `gatehouse pair` announces its pairing port; a gateway browsing for peers must not dial it.
        var pairing = DnsMessageReader.Read(DnsMessageWriter.Response(GatehouseService.Records(
            new Announcement("phone", PinB, 41207, [IPAddress.Parse("fe80::1")], 120), GatehouseService.PairingServiceType)));
        Assert.Empty(GatehouseService.Read(pairing, 3));
        Assert.Equal(41207, Assert.Single(GatehouseService.Read(pairing, 3, GatehouseService.PairingServiceType)).Port);
        Assert.Empty(GatehouseService.Read(DnsMessageReader.Read(Announcement()), 3, GatehouseService.PairingServiceType));

        var askPairing = DnsMessageReader.Read(DnsMessageWriter.Query([new DnsQuestion(GatehouseService.PairingServiceType, DnsType.Ptr)]));
        Assert.False(GatehouseService.Asks(askPairing, "phone", PinB));
        Assert.True(GatehouseService.Asks(askPairing, "phone", PinB, GatehouseService.PairingServiceType));
    }

    [Fact]
    public void EveryTruncationOfAnAnnouncementIsRefused()
    {
        var whole = Announcement();
        for (var length = 0; length < whole.Length; length++)
        {
            Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(whole.AsSpan(0, length)));
        }
    }

    [Fact]
    public void NoSingleByteChangeCrashesTheReader()
    {
        // Every value at every position: the reader either reads a message or refuses it, never anything else.
        var whole = Announcement();
        for (var position = 0; position < whole.Length; position++)
        {
            for (var value = 0; value < 256; value += 7)
            {
                var bent = (byte[])whole.Clone();
                bent[position] = (byte)value;
                try
                {
                    var message = DnsMessageReader.Read(bent);
                    _ = GatehouseService.Read(message, 1);
                }
                catch (DnsFormatException)
                {
                }
            }
        }
    }

    [Fact]
    public void ANamePointerThatDoesNotPointBackwardsIsRefused()
    {
        // Header with one question, whose name is a pointer to itself (offset 12).
        byte[] loop = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 12, 0, 1];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(loop));
        // A pointer forward, past itself.
        byte[] forward = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 18, 0, 12, 0, 1, 0];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(forward));
    }

    [Fact]
    public void ACompressedNamePointingBackwardsIsRead()
    {
        // Question "local" (at 12), then a record whose name is a pointer to it, type A.
        byte[] message =
        [
            0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0,
            5, (byte)'l', (byte)'o', (byte)'c', (byte)'a', (byte)'l', 0, 0, 1, 0, 1,
            0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 1,
        ];
        var read = DnsMessageReader.Read(message);
        var record = Assert.IsType<AddressRecord>(Assert.Single(read.Records));
        Assert.Equal(DnsName.Parse("local"), record.Name);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), record.Address);
    }

    [Fact]
    public void OversizedMessagesCountsAndBadTextAreRefused()
    {
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(new byte[DnsMessageReader.MaxMessageBytes + 1]));
        byte[] tooMany = [0, 0, 0x84, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(tooMany));
        byte[] control = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x07, 0, 0, 12, 0, 1];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(control));
        byte[] notUtf8 = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0, 0, 12, 0, 1];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(notUtf8));
        byte[] trailing = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(trailing));
    }

    [Fact]
    public void AnAnnouncementWithAMalformedPinOrNameIsLeftOut()
    {
        var records = GatehouseService.Records(new Announcement("phone", PinB, 8443, [IPAddress.Parse("fe80::1")], 120));
        var instance = GatehouseService.InstanceName("phone");
        foreach (var txt in new[] { new[] { "pin=sha256//short", "name=phone" }, ["pin=" + PinB, "name=-bad"], ["name=phone"] })
        {
            var bent = records.Select(r => r is TxtRecord ? new TxtRecord(instance, 120, true, txt) : r).ToList();
            Assert.Empty(GatehouseService.Read(DnsMessageReader.Read(DnsMessageWriter.Response(bent)), 1));
        }
    }

    [Fact]
    public void AGoodbyeWithdrawsTheAddressesItNames()
    {
        var seen = new SeenGateways();
        var hello = Assert.Single(GatehouseService.Read(DnsMessageReader.Read(Announcement()), 3));
        seen.Record(hello, _ => false);
        Assert.Equal(2, seen.AddressesOf([PinB]).Count);
        var goodbye = Assert.Single(GatehouseService.Read(DnsMessageReader.Read(Announcement(ttl: 0)), 3));
        seen.Record(goodbye, _ => false);
        Assert.Empty(seen.Snapshot());
    }

    [Fact]
    public void TheTableOfSeenGatewaysIsBoundedAndKnownPinsAreNotCrowdedOut()
    {
        var seen = new SeenGateways();
        for (var i = 0; i < SeenGateways.MaxGateways + 10; i++)
        {
            seen.Record(new Announcement("spam", PeerDevices.RandomPin(), 8443, [IPAddress.Parse("192.0.2.9")], 120), _ => false);
        }

        Assert.Equal(SeenGateways.MaxGateways, seen.Snapshot().Count);
        seen.Record(new Announcement("phone", PinB, 8443, [IPAddress.Parse("192.0.2.7")], 120), pin => pin == PinB);
        Assert.Single(seen.AddressesOf([PinB]));
        Assert.Equal(SeenGateways.MaxGateways, seen.Snapshot().Count);
    }
}
