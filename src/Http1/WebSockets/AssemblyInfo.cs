using System.Runtime.CompilerServices;

// The handshake validator is internal (the endpoint is the public surface); its refusal cases
// are unit-tested directly rather than only through sockets.
[assembly: InternalsVisibleTo("Gatehouse.WebSockets.Tests")]
