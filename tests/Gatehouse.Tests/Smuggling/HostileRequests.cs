namespace Gatehouse.Tests.Smuggling;

/// <summary>
/// Our own corpus of hostile requests (issue 10), beyond ../shared/corpora/smuggling.jsonl:
/// framing ambiguities, obfuscated codings, smuggled pipelines, control bytes, target and Host
/// tricks. Each entry gives the verdict per message: "ok" messages must reach the backend
/// exactly once, the first "reject" gets a 4xx and the connection closes.
/// </summary>
public static class HostileRequests
{
    private const string Head = "POST /smuggle HTTP/1.1\r\nHost: localhost\r\n";

    public static IReadOnlyDictionary<string, (string Raw, string[] Expect)> All { get; } = Build();

    private static Dictionary<string, (string, string[])> Build()
    {
        var all = new Dictionary<string, (string, string[])>();
        void Reject(string name, string raw) => all.Add(name, (raw, ["reject"]));
        void Sequence(string name, string raw, params string[] expect) => all.Add(name, (raw, expect));

        // CL.TE / TE.CL in every spelling: any Content-Length beside any Transfer-Encoding is refused.
        string[] teSpellings = ["chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "\tchunked", "chunked\t", ", chunked", "chunked,", "identity, chunked"];
        for (var i = 0; i < teSpellings.Length; i++)
        {
            Reject($"clte-{i}", $"{Head}Content-Length: 6\r\nTransfer-Encoding: {teSpellings[i]}\r\n\r\n0\r\n\r\nX");
            Reject($"tecl-{i}", $"{Head}Transfer-Encoding: {teSpellings[i]}\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n");
        }

        // TE.TE: obfuscated or stacked codings a back end might read differently.
        string[] badCodings =
        [
            "xchunked", "chunkedx", "chunked, identity", "identity", "gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked",
            "\"chunked\"", "chunk", "chunked;q=1", "ch unked", "chunked\u000b", "\u00a0chunked", "chunked\u00a0", "x, chunked",
            "chunked x", "cHuNkEd, identity", "compress", "deflate",
        ];
        for (var i = 0; i < badCodings.Length; i++)
        {
            Reject($"tete-coding-{i}", $"{Head}Transfer-Encoding: {badCodings[i]}\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        }

        Reject("tete-two-fields-identity", $"{Head}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n");
        Reject("tete-two-fields-chunked", $"{Head}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        Reject("tete-empty-field", $"{Head}Transfer-Encoding:\r\n\r\n");
        Reject("tete-space-before-colon", $"{Head}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
        Reject("tete-tab-before-colon", $"{Head}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n");
        Reject("tete-http10", "POST /smuggle HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        Reject("tete-obsfold", $"{Head}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n");
        Reject("tete-obsfold-other", $"{Head}X-Padding: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

        // Content-Length: duplicates, lists, signs, bases, spaces, overflow.
        string[] badLengths = ["5, 5", "5,5", "+5", "-5", "0x5", "5 5", " ", "", "5.0", "1e1", "99999999999999999999", "\u00ef\u00bc\u0095" /* UTF-8 of a fullwidth 5 */, "5\u000b", "0005a"];
        for (var i = 0; i < badLengths.Length; i++)
        {
            Reject($"cl-value-{i}", $"{Head}Content-Length: {badLengths[i]}\r\n\r\nhello");
        }

        Reject("cl-duplicate-same", $"{Head}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
        Reject("cl-duplicate-different", $"{Head}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        Reject("cl-space-before-colon", $"{Head}Content-Length : 5\r\n\r\nhello");
        Reject("cl-obsfold", $"{Head}Content-Length:\r\n 5\r\n\r\nhello");

        // Line endings and control bytes.
        Reject("bare-lf-request-line", "GET / HTTP/1.1\nHost: localhost\r\n\r\n");
        Reject("bare-lf-header", "GET / HTTP/1.1\r\nHost: localhost\nX: y\r\n\r\n");
        Reject("bare-lf-end", "GET / HTTP/1.1\r\nHost: localhost\r\n\n");
        Reject("bare-cr-header", "GET / HTTP/1.1\r\nHost: localhost\r\nX: a\rb\r\n\r\n");
        Reject("bare-cr-request-line", "GET /\r HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Reject("nul-value", "GET / HTTP/1.1\r\nHost: localhost\r\nX: a\0b\r\n\r\n");
        Reject("nul-name", "GET / HTTP/1.1\r\nHost: localhost\r\nX\0: b\r\n\r\n");
        Reject("nul-method", "G\0T / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Reject("nul-target", "GET /a\0 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Reject("del-value", "GET / HTTP/1.1\r\nHost: localhost\r\nX: a\u007fb\r\n\r\n");
        Reject("esc-value", "GET / HTTP/1.1\r\nHost: localhost\r\nX: a\u001bb\r\n\r\n");
        Reject("vt-name", "GET / HTTP/1.1\r\nHost: localhost\r\nX\u000b: b\r\n\r\n");
        Reject("space-in-name", "GET / HTTP/1.1\r\nHost: localhost\r\nX Y: b\r\n\r\n");
        Reject("no-colon", "GET / HTTP/1.1\r\nHost: localhost\r\nXY\r\n\r\n");
        Reject("leading-space-first-field", "GET / HTTP/1.1\r\n Host: localhost\r\n\r\n");

        // Chunked body abuse.
        string[] badChunks =
        [
            "FFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n", "10000000000000000\r\nx\r\n0\r\n\r\n", "-1\r\nx\r\n0\r\n\r\n", "+1\r\nx\r\n0\r\n\r\n",
            "0x1\r\nx\r\n0\r\n\r\n", " 1\r\nx\r\n0\r\n\r\n", "1 \r\nx\r\n0\r\n\r\n", "\r\nx\r\n0\r\n\r\n", "1\r\nxx\r\n0\r\n\r\n",
            "1\r\nx0\r\n\r\n", "1\nx\r\n0\r\n\r\n", "1\r\nx\n0\r\n\r\n", "1;\r\nx\r\n0\r\n\r\n", "1;a=\r\nx\r\n0\r\n\r\n",
            "1;a=\"b\r\nx\r\n0\r\n\r\n", "1;a\rb\r\nx\r\n0\r\n\r\n", "1\r\nx\r\n0\r\nX: a\r\n b\r\n\r\n", "1\r\nx\r\n0\r\nX\r\n\r\n",
            "1_0\r\nx\r\n0\r\n\r\n", "1\r\nx\r\n0\r\n\n",
            "1;" + new string('a', 9000) + "\r\nx\r\n0\r\n\r\n",
            "1\r\nx\r\n0\r\n" + string.Concat(Enumerable.Range(0, 400).Select(i => $"X-T{i}: {new string('v', 20)}\r\n")) + "\r\n",
        ];
        for (var i = 0; i < badChunks.Length; i++)
        {
            Reject($"chunk-{i}", $"{Head}Transfer-Encoding: chunked\r\n\r\n{badChunks[i]}");
        }

        // Pipelined garbage and smuggled second requests after a well-framed first one.
        Sequence("pipeline-garbage-after-cl-body", $"{Head}Content-Length: 5\r\n\r\nhelloGARBAGE\r\n\r\n", "ok", "reject");
        Sequence("pipeline-garbage-after-chunked", $"{Head}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nXYZ / HTTP/1.1\r\n\r\n", "ok", "reject");
        Sequence("pipeline-smuggled-te-second", $"{Head}Content-Length: 0\r\n\r\n{Head}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "ok", "reject");
        Sequence("pipeline-then-http09", $"GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b\r\n\r\n", "ok", "reject");
        Sequence("pipeline-then-bare-lf", $"GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\nHost: localhost\n\n", "ok", "reject");

        // Targets: forms a front end and a back end may resolve differently.
        string[] badTargets =
        [
            "/a/../b", "/a/./b", "/a/%2e%2e/b", "/a/%2E/b", "/a//b", "//a", "/a/%00", "/a/%0a", "/a/%0d%0aX:%20y", "/a/%c0%ae%c0%ae",
            "/a/%ff", "/a/%e2%82", "/a#frag", "/a b", "/a\u00e9", "/%zz", "/a/%2", "*", "http://user:pw@localhost/", "ftp://localhost/",
            "localhost:80", "a/b", "\\a", "/a\\b", "/a|b", "/a{b}", "/a\"b", "/a<b>", "/a?b#c", "/a?%00",
        ];
        for (var i = 0; i < badTargets.Length; i++)
        {
            Reject($"target-{i}", $"GET {badTargets[i]} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }

        Reject("connect-authority", "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n");
        Reject("connect-origin", "CONNECT / HTTP/1.1\r\nHost: localhost\r\n\r\n");

        // Versions and request-line shape.
        string[] badLines = ["GET / HTTP/1.1 ", "GET  / HTTP/1.1", "GET / HTTP/1.10", "GET / HTTP/2.0", "GET / http/1.1", "GET / HTTP/1", "GET /", "GET\t/\tHTTP/1.1", " GET / HTTP/1.1", "GE(T / HTTP/1.1", "PRI * HTTP/2.0"];
        for (var i = 0; i < badLines.Length; i++)
        {
            Reject($"request-line-{i}", $"{badLines[i]}\r\nHost: localhost\r\n\r\n");
        }

        // Host confusion.
        string[] badHosts = ["localhost, evil", "user@localhost", "localhost/evil", "local host", "localhost:99999", "localhost:x", "[::1", "::1", "localhost:"];
        for (var i = 0; i < badHosts.Length; i++)
        {
            Reject($"host-{i}", $"GET / HTTP/1.1\r\nHost: {badHosts[i]}\r\n\r\n");
        }

        Reject("host-missing", "GET / HTTP/1.1\r\n\r\n");
        Reject("host-duplicate", "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil\r\n\r\n");
        Reject("expect-unknown", $"{Head}Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx");
        Reject("headers-too-many", "GET / HTTP/1.1\r\nHost: localhost\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"X-{i}: v\r\n")) + "\r\n");
        Reject("header-block-too-large", "GET / HTTP/1.1\r\nHost: localhost\r\nX: " + new string('a', 40 * 1024) + "\r\n\r\n");
        Reject("request-line-too-long", "GET /" + new string('a', 9 * 1024) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
        return all;
    }
}
