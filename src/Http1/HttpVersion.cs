namespace Gatehouse.Http1;

/// <summary>The two protocol versions served (RFC 9112 §2.3); anything else is 505 or 400.</summary>
public enum HttpVersion
{
    Http10,
    Http11,
}
