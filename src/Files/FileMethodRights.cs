namespace Gatehouse.Files;

/// <summary>The one mapping from a request method to the file right it needs (policy, route and endpoint ask it alike).</summary>
public static class FileMethodRights
{
    /// <summary>The right <paramref name="method"/> needs, or <see cref="FileRights.None"/> for a method files do not answer.</summary>
    public static FileRights For(string method) => method switch
    {
        Http1.HttpMethods.Get or Http1.HttpMethods.Head => FileRights.Read,
        Http1.HttpMethods.Put => FileRights.Write,
        Http1.HttpMethods.Delete => FileRights.Delete,
        _ => FileRights.None,
    };
}
