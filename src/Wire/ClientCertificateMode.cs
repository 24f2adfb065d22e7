namespace Gatehouse.Wire;

/// <summary>Whether a TLS listener asks for a client certificate.</summary>
public enum ClientCertificateMode
{
    /// <summary>A trusted client certificate is required; the handshake fails without one.</summary>
    Required,

    /// <summary>A certificate is asked for; without one the caller is <see cref="Principal.Anonymous"/>, with one it must be trusted.</summary>
    Optional,

    /// <summary>No certificate is asked for; every caller is <see cref="Principal.Anonymous"/>.</summary>
    None,
}
