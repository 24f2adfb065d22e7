namespace Gatehouse.Proxy;

/// <summary>
/// The client's own credential fields a plan lets through (DESIGN.md decision 4, issue 19). None is
/// the default and what CouchDB routes and peer links keep: the gateway injects its own credential
/// there, and CouchDB's <c>AuthSession</c> cookie must never reach it.
/// </summary>
[Flags]
public enum ClientCredentials
{
    None = 0,

    /// <summary>The client's <c>Cookie</c>: a proxied app keeps its login session in it.</summary>
    Cookie = 1,

    /// <summary>The client's <c>Authorization</c>: an app's own token or Basic login, where the gateway does none.</summary>
    Authorization = 2,
}
