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
        var data = new TheoryData<string>();
        foreach (var name in ForwardedHeaders.HopByHop.Concat(ForwardedHeaders.ResponseDropped).Concat(Ordinary))
        {
            data.Add(name);
            data.Add(name.ToUpperInvariant());
            data.Add(name.ToLowerInvariant());
        }

        return data;
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
