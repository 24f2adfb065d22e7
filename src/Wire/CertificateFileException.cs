namespace Gatehouse.Wire;

/// <summary>
/// A certificate or key file could not be read or written. The message names the file and says
/// what is wrong in words a user can act on ("server.key: wrong passphrase or corrupt key").
/// </summary>
public sealed class CertificateFileException : Exception
{
    /// <summary>Creates the exception with no message (for serializers and tooling).</summary>
    public CertificateFileException()
    {
    }

    /// <summary>Creates the exception with a message that names the file.</summary>
    public CertificateFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message that names the file and the underlying cause.</summary>
    public CertificateFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="path"/>, as <c>FILE: problem</c>.</summary>
    internal static CertificateFileException For(string path, string problem, Exception? inner = null)
    {
        string message = $"{Path.GetFileName(path)}: {problem}";
        return inner is null ? new CertificateFileException(message) : new CertificateFileException(message, inner);
    }
}
