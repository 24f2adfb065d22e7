namespace Gatehouse.Files;

/// <summary>What a principal may do with files; the policy (src/Gatehouse) decides, the endpoint enforces.</summary>
[Flags]
public enum FileRights
{
    None = 0,

    /// <summary>GET and HEAD.</summary>
    Read = 1,

    /// <summary>PUT (verified upload).</summary>
    Write = 2,

    /// <summary>DELETE.</summary>
    Delete = 4,
}
