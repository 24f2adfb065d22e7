using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.WebSockets.Tests;

/// <summary>The pure handshake judge: every refusal, the accept value, subprotocol and origin rules.</summary>
public sealed class HandshakeTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private static readonly WebSocketEndpointOptions Plain = new();

    [Fact]
    public void ComputesTheAcceptValueOfRfc6455Section1_3() =>
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.ComputeAccept(Key));

    [Fact]
    public void AcceptsAValidHandshake()
    {
        var decision = Judge(Valid());
        Assert.True(decision.IsAccepted);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", decision.Accept);
        Assert.Null(decision.SubProtocol);
    }

    [Fact]
    public void AcceptsTokensInAnyCaseAndInLists()
    {
        var headers = Headers(("Host", "x"), ("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"), ("Sec-WebSocket-Key", Key), ("Sec-WebSocket-Version", "13"));
        Assert.True(Judge(headers).IsAccepted);
    }

    [Fact]
    public void RefusesPlainHttpWith426() => AssertRefused(Judge(Headers(("Host", "x"))), 426, upgrade: true);

    [Fact]
    public void RefusesAnotherUpgradeProtocolWith426() =>
        AssertRefused(Judge(Valid(replace: ("Upgrade", "h2c"))), 426, upgrade: true);

    [Fact]
    public void RefusesAMissingKey() => AssertRefused(Judge(Valid(without: "Sec-WebSocket-Key")), 400);

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25j")] // 15 bytes
    [InlineData("dGhlIHNhbXBsZSBub25jZTEy")] // 18 bytes
    [InlineData("not base64 at all!!!!!!=")]
    [InlineData("")]
    public void RefusesAKeyThatIsNotSixteenBytes(string key) => AssertRefused(Judge(Valid(replace: ("Sec-WebSocket-Key", key))), 400);

    [Fact]
    public void RefusesTwoKeys()
    {
        var headers = Valid();
        headers.Add("Sec-WebSocket-Key", Key);
        AssertRefused(Judge(headers), 400);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("8")]
    [InlineData("14")]
    [InlineData("13, 12")]
    public void RefusesOtherVersionsWith426NamingThirteen(string version)
    {
        var decision = Judge(Valid(replace: ("Sec-WebSocket-Version", version)));
        AssertRefused(decision, 426, upgrade: true);
        Assert.True(decision.AdvertiseVersion);
    }

    [Fact]
    public void RefusesAMissingVersionWith426() => Assert.True(Judge(Valid(without: "Sec-WebSocket-Version")).AdvertiseVersion);

    [Fact]
    public void RefusesWithoutConnectionUpgrade() => AssertRefused(Judge(Valid(replace: ("Connection", "keep-alive"))), 400);

    [Fact]
    public void RefusesAPost() => AssertRefused(WebSocketHandshake.Validate("POST", HttpVersion.Http11, Valid(), false, Plain), 400);

    [Fact]
    public void RefusesHttp10() => AssertRefused(WebSocketHandshake.Validate("GET", HttpVersion.Http10, Valid(), false, Plain), 400);

    [Fact]
    public void RefusesAHandshakeWithABody() => AssertRefused(WebSocketHandshake.Validate("GET", HttpVersion.Http11, Valid(), true, Plain), 400);

    [Fact]
    public void RefusesAForeignOriginWith403()
    {
        var options = new WebSocketEndpointOptions { AllowedOrigins = ["https://app.example"] };
        AssertRefused(Judge(Valid(("Origin", "https://evil.example")), options), 403);
        Assert.True(Judge(Valid(("Origin", "https://APP.example")), options).IsAccepted);
        Assert.True(Judge(Valid(), options).IsAccepted); // non-browser clients send no Origin
        Assert.True(Judge(Valid(("Origin", "https://evil.example"))).IsAccepted); // no allowlist, no check
    }

    [Fact]
    public void ChoosesTheClientsFirstOfferedSubprotocolTheServerSpeaks()
    {
        var options = new WebSocketEndpointOptions { SubProtocols = ["chat.v1", "chat.v2"] };
        Assert.Equal("chat.v2", Judge(Valid(("Sec-WebSocket-Protocol", "chat.v3, chat.v2, chat.v1")), options).SubProtocol);
        Assert.Equal("chat.v1", Judge(Valid(("Sec-WebSocket-Protocol", "chat.v3"), ("Sec-WebSocket-Protocol", "chat.v1")), options).SubProtocol);
    }

    [Fact]
    public void AcceptsWithoutSubprotocolWhenNoneMatches()
    {
        var options = new WebSocketEndpointOptions { SubProtocols = ["chat.v1"] };
        var decision = Judge(Valid(("Sec-WebSocket-Protocol", "CHAT.V1, other")), options);
        Assert.True(decision.IsAccepted);
        Assert.Null(decision.SubProtocol);
    }

    [Fact]
    public void RefusesASubprotocolListThatIsNotTokens() =>
        AssertRefused(Judge(Valid(("Sec-WebSocket-Protocol", "chat v1, \"x\""))), 400);

    private static HandshakeDecision Judge(RequestHeaders headers, WebSocketEndpointOptions? options = null) =>
        WebSocketHandshake.Validate("GET", HttpVersion.Http11, headers, hasBody: false, options ?? Plain);

    private static void AssertRefused(HandshakeDecision decision, int status, bool upgrade = false)
    {
        Assert.False(decision.IsAccepted);
        Assert.Equal(status, decision.StatusCode);
        Assert.Equal(upgrade, decision.AdvertiseUpgrade);
        Assert.Null(decision.Accept);
    }

    private static RequestHeaders Valid(params (string Name, string Value)[] extra) => Valid(null, null, extra);

    private static RequestHeaders Valid(string? without = null, (string Name, string Value)? replace = null, params (string Name, string Value)[] extra)
    {
        (string Name, string Value)[] fields =
            [("Host", "gate"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", Key), ("Sec-WebSocket-Version", "13")];
        var headers = new RequestHeaders();
        foreach (var (name, value) in fields.Concat(extra))
        {
            if (name == without)
            {
                continue;
            }

            headers.Add(name, replace is { } r && r.Name == name ? r.Value : value);
        }

        return headers;
    }

    private static RequestHeaders Headers(params (string Name, string Value)[] fields)
    {
        var headers = new RequestHeaders();
        foreach (var (name, value) in fields)
        {
            headers.Add(name, value);
        }

        return headers;
    }
}
