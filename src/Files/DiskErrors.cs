namespace Gatehouse.Files;

/// <summary>Tells "the disk is full" apart from other I/O failures, so an upload can answer 507.</summary>
internal static class DiskErrors
{
    // Unix: .NET carries an unmapped errno as the HResult. ENOSPC is 28 and EDQUOT 122 on Linux (69 on macOS).
    private const int Enospc = 28;
    private const int EdquotLinux = 122;
    private const int EdquotMac = 69;

    // Windows: ERROR_HANDLE_DISK_FULL (0x27) and ERROR_DISK_FULL (0x70) as HRESULTs.
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);
    private const int WindowsDiskFull = unchecked((int)0x80070070);

    public static bool IsDiskFull(IOException exception) => OperatingSystem.IsWindows()
        ? exception.HResult is WindowsHandleDiskFull or WindowsDiskFull
        : exception.HResult is Enospc || (OperatingSystem.IsMacOS() ? exception.HResult == EdquotMac : exception.HResult == EdquotLinux);
}
