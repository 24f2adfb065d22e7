using System.Runtime.InteropServices;
using static Gatehouse.Wire.Tuning.OpenSslAccess;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// The two memory BIOs .NET passes TLS records through. Their buffers only ever grow, to the biggest
/// flight or record they carried, and are held for the connection's whole life unless given back here.
/// </summary>
internal static class MemoryBio
{
    /// <summary>The bytes allocated for a memory BIO's buffer (BUF_MEM's max: after its length and data), -1 when not one.</summary>
    public static long Bytes(IntPtr bio)
    {
        IntPtr buffer = IntPtr.Zero;
        if (bio == IntPtr.Zero || Native.BioMethodType(bio) != Native.BioTypeMem
            || Native.BioCtrlPtr(bio, Native.BioGetBufMemPtr, 0, ref buffer) != 1 || buffer == IntPtr.Zero)
        {
            return -1;
        }

        return Marshal.ReadInt64(buffer, 2 * IntPtr.Size);
    }

    /// <summary>
    /// With nothing pending in <paramref name="bio"/> and more than <paramref name="keepUpTo"/> bytes held,
    /// gives it a fresh empty buffer (the old one is freed), which grows again only to what follows.
    /// </summary>
    public static void Shrink(IntPtr bio, long keepUpTo = -1)
    {
        if (bio == IntPtr.Zero || Native.BioMethodType(bio) != Native.BioTypeMem
            || Native.BioCtrl(bio, Native.BioCtrlPending, 0, IntPtr.Zero) != 0 || Bytes(bio) <= keepUpTo)
        {
            return;
        }

        IntPtr empty = Native.BufMemNew();
        if (empty != IntPtr.Zero)
        {
            Native.BioCtrl(bio, Native.BioSetBufMem, Native.BioClose, empty); // frees the old buffer; the BIO owns the new one
        }
    }
}
