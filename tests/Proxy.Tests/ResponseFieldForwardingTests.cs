using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// An upstream's field names are judged as bytes on the hot path (issue 22) and as strings
/// elsewhere: the two readings must drop exactly the same fields.
/// </summary>
public sealed class ResponseFieldForwardingTests
{
    private static readonly string[] Ordinary =
    [
        "Content-Type", "ETag", "Set-Cookie", "Location", "Via", "Server", "X-Keep-Alive", "Connections",
        "TE2", "T", "Dates", "Upgrade-Insecure-Requests", "Trailers", "Content-Lengths", "Proxy-Authenticated",
        "Transfer-Encodings", "X-Connection", "Cache-Control",
    ];

    public static TheoryData<string> Names()
    {
        var names = ForwardedHeaders.HopByHop.Concat(ForwardedHeaders.ResponseDropped).Concat(Ordinary)
            .SelectMany(name => new[] { name, name.ToUpperInvariant(), name.ToLowerInvariant() })
            .Distinct(StringComparer.Ordinal); // "TE" is its own upper case: one case each
        return [.. names];
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BytesAndStringsAgree(string name)
    {
        string[] none = [];
        Assert.Equal(
            ForwardedHeaders.IsResponseFieldForwarded(name, none),
            ForwardedHeaders.IsResponseFieldForwarded(Encoding.ASCII.GetBytes(name), none));
        var droppedByName = ForwardedHeaders.HopByHop.Contains(name) || ForwardedHeaders.ResponseDropped.Contains(name);
        Assert.Equal(!droppedByName, ForwardedHeaders.IsResponseFieldForwarded(Encoding.ASCII.GetBytes(name), none));
    }

    [Fact]
    public void FieldNamedInConnectionIsDroppedWhateverItsCase()
    {
        string[] tokens = ["keep-alive", "X-Secret-Hop"];
        Assert.False(ForwardedHeaders.IsResponseFieldForwarded("x-secret-hop"u8, tokens));
        Assert.False(ForwardedHeaders.IsResponseFieldForwarded("X-SECRET-HOP"u8, tokens));
        Assert.True(ForwardedHeaders.IsResponseFieldForwarded("X-Secret-Hop2"u8, tokens));
        Assert.True(ForwardedHeaders.IsResponseFieldForwarded("X-Other"u8, tokens));
    }
}
