namespace Gatehouse.Http1;

/// <summary>How a request's body is delimited (RFC 9112 §6.3), decided once in <see cref="RequestFramingRules"/>.</summary>
public enum BodyFraming
{
    None,
    ContentLength,
    Chunked,
}
