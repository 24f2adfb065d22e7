using System.Text;

namespace Gatehouse.Http1;

/// <summary>Interned method names; a parsed method equal to one of these is the same string instance.</summary>
public static class HttpMethods
{
    public const string Get = "GET";
    public const string Head = "HEAD";
    public const string Post = "POST";
    public const string Put = "PUT";
    public const string Delete = "DELETE";
    public const string Options = "OPTIONS";
    public const string Patch = "PATCH";
    public const string Copy = "COPY";
    public const string Connect = "CONNECT";
    public const string Trace = "TRACE";

    internal static string Intern(ReadOnlySpan<byte> method) => method switch
    {
        _ when method.SequenceEqual("GET"u8) => Get,
        _ when method.SequenceEqual("PUT"u8) => Put,
        _ when method.SequenceEqual("POST"u8) => Post,
        _ when method.SequenceEqual("HEAD"u8) => Head,
        _ when method.SequenceEqual("DELETE"u8) => Delete,
        _ when method.SequenceEqual("OPTIONS"u8) => Options,
        _ when method.SequenceEqual("PATCH"u8) => Patch,
        _ when method.SequenceEqual("COPY"u8) => Copy,
        _ when method.SequenceEqual("CONNECT"u8) => Connect,
        _ when method.SequenceEqual("TRACE"u8) => Trace,
        _ => Encoding.ASCII.GetString(method),
    };
}
