using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.Front;

/// <summary>
/// The headers that carry a role's limited CouchDB identity upstream (issue 3, DESIGN.md decision 4):
/// Basic with the role's user and password, or — when the stdin environment holds a proxy
/// authentication secret — CouchDB proxy authentication with an HMAC-SHA256 token. Client copies
/// of every one of these names are stripped by the forwarder before these are added.
/// </summary>
internal static class CouchCredentialHeaders
{
    public static KeyValuePair<string, string>[] For(CouchEnvironment environment, CouchCredential credential)
    {
        if (environment.ProxyAuthSecret is not { Length: > 0 } secret)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password));
            return [new("Authorization", "Basic " + basic)];
        }

        var token = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(credential.Username)));
        return
        [
            new("X-Auth-CouchDB-UserName", credential.Username),
            new("X-Auth-CouchDB-Roles", string.Join(',', credential.Roles)),
            new("X-Auth-CouchDB-Token", token),
        ];
    }
}
