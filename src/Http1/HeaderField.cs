namespace Gatehouse.Http1;

/// <summary>One header field as received: name as sent (matched case-insensitively), value with OWS trimmed.</summary>
public readonly record struct HeaderField(string Name, string Value);
