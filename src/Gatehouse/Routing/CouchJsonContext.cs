using System.Text.Json.Serialization;

namespace Gatehouse.Routing;

[JsonSerializable(typeof(string[]))]
internal sealed partial class CouchJsonContext : JsonSerializerContext
{
}
