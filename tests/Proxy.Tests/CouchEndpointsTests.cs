using Gatehouse.Http1;

namespace Gatehouse.Proxy.Tests;

public sealed class CouchEndpointsTests
{
    /// <summary>Classifies a raw target the way the gateway does: canonicalized by Http1, mount segment dropped.</summary>
    private static CouchClassification Classify(string method, string target)
    {
        var canonical = CanonicalTarget.Parse(System.Text.Encoding.ASCII.GetBytes("/couch" + target));
        return CouchEndpoints.Classify(method, [.. canonical.Segments.Skip(1)], canonical.Query);
    }

    [Theory]
    [InlineData("/db/_changes?feed=continuous&heartbeat=10000", true)]
    [InlineData("/db/_changes?since=now&feed=eventsource", true)]
    [InlineData("/db/_changes?feed=longpoll", false)]
    [InlineData("/db/_changes?feed=normal", false)]
    [InlineData("/db/_changes", false)]
    [InlineData("/db/_all_docs?feed=continuous", false)]
    public void OnlyContinuousAndEventSourceChangesAreEndlessFeeds(string target, bool endless) =>
        Assert.Equal(endless, Couch.CouchFeeds.IsEndless(Classify("GET", target)));

    [Theory]
    [InlineData("GET", "/", CouchAccess.ServerInfo)]
    [InlineData("HEAD", "/", CouchAccess.ServerInfo)]
    [InlineData("GET", "/_all_dbs", CouchAccess.AllDbs)]
    [InlineData("GET", "/db", CouchAccess.Pull)]
    [InlineData("HEAD", "/db/", CouchAccess.Pull)]
    [InlineData("GET", "/db/_changes?feed=continuous&heartbeat=10000&since=0", CouchAccess.Pull)]
    [InlineData("POST", "/db/_changes?filter=_doc_ids", CouchAccess.Pull)]
    [InlineData("GET", "/db/_changes?filter=_selector", CouchAccess.Pull)]
    [InlineData("GET", "/db/doc?revs=true&open_revs=all&latest=true", CouchAccess.Pull)]
    [InlineData("GET", "/db/doc?atts_since=%5B%221-a%22%5D", CouchAccess.Pull)]
    [InlineData("POST", "/db/_bulk_get?revs=true", CouchAccess.Pull)]
    [InlineData("POST", "/db/_all_docs", CouchAccess.Pull)]
    [InlineData("GET", "/db/_all_docs?include_docs=true", CouchAccess.Pull)]
    [InlineData("GET", "/db/_local/abc", CouchAccess.Pull)]
    [InlineData("PUT", "/db/_local/abc", CouchAccess.Pull)]
    [InlineData("PUT", "/db/_local%2Fabc", CouchAccess.Pull)]
    [InlineData("POST", "/db/_revs_diff", CouchAccess.Push)]
    [InlineData("POST", "/db/_bulk_docs", CouchAccess.Push)]
    [InlineData("PUT", "/db/doc?new_edits=false", CouchAccess.Push)]
    [InlineData("POST", "/db/_ensure_full_commit", CouchAccess.Push)]
    [InlineData("POST", "/db/_missing_revs", CouchAccess.Push)]
    [InlineData("GET", "/db/doc", CouchAccess.Read)]
    [InlineData("HEAD", "/db/doc", CouchAccess.Read)]
    [InlineData("GET", "/db/doc/att.png", CouchAccess.Read)]
    [InlineData("GET", "/db/doc/dir/att.png", CouchAccess.Read)]
    [InlineData("GET", "/db/a%2Fb", CouchAccess.Read)]
    [InlineData("GET", "/db/_design/app", CouchAccess.Read)]
    [InlineData("GET", "/db/_design%2Fapp", CouchAccess.Read)]
    [InlineData("GET", "/db/_design/app/logo.png", CouchAccess.Read)]
    [InlineData("PUT", "/db/doc", CouchAccess.Write)]
    [InlineData("PUT", "/db/doc?rev=1-a", CouchAccess.Write)]
    [InlineData("DELETE", "/db/doc?rev=1-a", CouchAccess.Write)]
    [InlineData("POST", "/db", CouchAccess.Write)]
    [InlineData("POST", "/db/doc", CouchAccess.Write)]
    [InlineData("PUT", "/db/doc/att", CouchAccess.Write)]
    [InlineData("DELETE", "/db/doc/att?rev=1-a", CouchAccess.Write)]
    [InlineData("PUT", "/db", CouchAccess.Create)]
    [InlineData("PUT", "/db/_design/app", CouchAccess.Design)]
    [InlineData("PUT", "/db/_design%2Fapp", CouchAccess.Design)]
    [InlineData("PUT", "/db/_design/app?rev=1-a", CouchAccess.Design)]
    [InlineData("DELETE", "/db/_design/app?rev=1-a", CouchAccess.Design)]
    [InlineData("DELETE", "/db/_design%2Fapp?rev=1-a", CouchAccess.Design)]
    [InlineData("PUT", "/db/_design/app/att?rev=1-a", CouchAccess.Design)]
    [InlineData("PUT", "/db/_design%2Fapp%2Fatt", CouchAccess.Design)]
    [InlineData("PUT", "/db/_design/app/dir/att", CouchAccess.Design)]
    [InlineData("DELETE", "/db/_design/app/att?rev=1-a", CouchAccess.Design)]
    [InlineData("PUT", "/novacut-0-abc", CouchAccess.Create)]
    [InlineData("PUT", "/_replicator/job", CouchAccess.Replicate)]
    [InlineData("GET", "/_replicator/job", CouchAccess.Replicate)]
    [InlineData("DELETE", "/_replicator/job?rev=1-a", CouchAccess.Replicate)]
    [InlineData("GET", "/a%2Fb", CouchAccess.Pull)]
    [InlineData("GET", "/db$(x)+y-z_1/doc", CouchAccess.Read)]
    public void OpensListedEndpoints(string method, string target, CouchAccess expected)
    {
        var result = Classify(method, target);
        Assert.Equal(expected, result.Access);
        Assert.False(string.IsNullOrEmpty(result.Reason));
    }

    [Theory]
    [InlineData("POST", "/")]
    [InlineData("GET", "/_config")]
    [InlineData("GET", "/%5Fconfig")]
    [InlineData("GET", "/%5fconfig/admins")]
    [InlineData("GET", "/_node/_local/_config")]
    [InlineData("GET", "/_replicate")]
    [InlineData("POST", "/_replicate/x")]
    [InlineData("POST", "/_replicator")]
    [InlineData("PUT", "/_replicator/_design/_replicator")]
    [InlineData("GET", "/_replicator/_all_docs")]
    [InlineData("GET", "/_replicator/_changes")]
    [InlineData("PUT", "/_replicator/_local/x")]
    [InlineData("POST", "/_replicator/job")]
    [InlineData("DELETE", "/_replicator/job?rev=1-a&batch=ok")]
    [InlineData("GET", "/_replicator/job/att")]
    [InlineData("GET", "/_users")]
    [InlineData("GET", "/_users/org.couchdb.user:bob")]
    [InlineData("POST", "/_session")]
    [InlineData("GET", "/_session")]
    [InlineData("GET", "/_utils")]
    [InlineData("GET", "/_active_tasks")]
    [InlineData("GET", "/_scheduler/jobs")]
    [InlineData("GET", "/_db_updates")]
    [InlineData("GET", "/_membership")]
    [InlineData("GET", "/_uuids")]
    [InlineData("POST", "/_dbs_info")]
    [InlineData("POST", "/_cluster_setup")]
    [InlineData("GET", "/_reshard")]
    [InlineData("GET", "/_replicator")]
    [InlineData("POST", "/_all_dbs")]
    [InlineData("GET", "/_all_dbs/x")]
    [InlineData("GET", "/db/_security")]
    [InlineData("PUT", "/db/_security")]
    [InlineData("PUT", "/db/%5Fsecurity")]
    [InlineData("POST", "/db/_purge")]
    [InlineData("PUT", "/db/_revs_limit")]
    [InlineData("GET", "/db/_revs_limit")]
    [InlineData("POST", "/db/_index")]
    [InlineData("DELETE", "/db/_index/app/json/idx")]
    [InlineData("POST", "/db/_temp_view")]
    [InlineData("PUT", "/db/_design/app?new_edits=false")]
    [InlineData("POST", "/db/_design/app")]
    [InlineData("PUT", "/db/_design/app/_update/u")]
    [InlineData("DELETE", "/db/_design/app/_view/v")]
    [InlineData("GET", "/db/_design/app/_show/s/doc")]
    [InlineData("GET", "/db/_design/app/_list/l/v")]
    [InlineData("POST", "/db/_design/app/_update/u/doc")]
    [InlineData("GET", "/db/_design/app/_rewrite/x")]
    [InlineData("GET", "/db/_design%2Fapp%2F_show%2Fs")]
    [InlineData("GET", "/db/_design%2Fapp/_show/s")]
    [InlineData("GET", "/db/_design")]
    [InlineData("GET", "/db/_design%2F")]
    [InlineData("GET", "/db/_changes?filter=_doc_ids&filter=app/f")]
    [InlineData("COPY", "/db/doc")]
    [InlineData("PATCH", "/db/doc")]
    [InlineData("OPTIONS", "/db")]
    [InlineData("TRACE", "/db")]
    [InlineData("get", "/db")]
    [InlineData("GET", "/db/doc?callback=steal")]
    [InlineData("GET", "/db?%63allback=x")]
    [InlineData("GET", "/?callback=x")]
    [InlineData("GET", "/Db")]
    [InlineData("GET", "/DB/doc")]
    [InlineData("GET", "/1db")]
    [InlineData("GET", "/db%20x")]
    [InlineData("GET", "/db/_local/a/b")]
    [InlineData("GET", "/db/_local")]
    [InlineData("GET", "/db/_other")]
    [InlineData("GET", "/db/doc/_att")]
    [InlineData("POST", "/db/doc/att")]
    [InlineData("GET", "/db/_changes/x")]
    [InlineData("GET", "/db/_bulk_get")]
    [InlineData("PUT", "/db/_bulk_docs")]
    public void ClosesEverythingElse(string method, string target)
    {
        var result = Classify(method, target);
        Assert.Equal(CouchAccess.Denied, result.Access);
        Assert.False(result.IsGrantedBy([CouchAccess.Pull, CouchAccess.Push, CouchAccess.Read, CouchAccess.Write, CouchAccess.Create]));
    }

    [Theory]
    [InlineData("POST", "/db", CouchBodyInspection.Document)]
    [InlineData("PUT", "/db/doc", CouchBodyInspection.Document)]
    [InlineData("PUT", "/db/doc?new_edits=false", CouchBodyInspection.Document)]
    [InlineData("POST", "/db/_bulk_docs", CouchBodyInspection.BulkDocs)]
    [InlineData("PUT", "/db/doc/att", CouchBodyInspection.None)]
    [InlineData("PUT", "/db/_local/x", CouchBodyInspection.Document)]
    [InlineData("GET", "/db/_local/x", CouchBodyInspection.None)]
    [InlineData("PUT", "/db/_design/app", CouchBodyInspection.None)]
    [InlineData("PUT", "/db", CouchBodyInspection.None)]
    [InlineData("POST", "/db/_revs_diff", CouchBodyInspection.None)]
    [InlineData("POST", "/db/_all_docs", CouchBodyInspection.None)]
    [InlineData("POST", "/db/doc", CouchBodyInspection.None)]
    [InlineData("DELETE", "/db/doc", CouchBodyInspection.None)]
    public void MarksWritesWhoseBodyMayNameADesignDocument(string method, string target, CouchBodyInspection expected) =>
        Assert.Equal(expected, Classify(method, target).Inspect);

    [Fact]
    public void ReportsTheDatabase()
    {
        Assert.Equal("a/b", Classify("GET", "/a%2Fb/doc").Database);
        Assert.Null(Classify("GET", "/_all_dbs").Database);
    }

    [Fact]
    public void CheckpointsAndDatabaseInfoServeBothReplicationDirections()
    {
        Assert.True(Classify("PUT", "/db/_local/x").IsGrantedBy([CouchAccess.Push]));
        Assert.True(Classify("GET", "/db/_local/x").IsGrantedBy([CouchAccess.Pull]));
        Assert.True(Classify("GET", "/db").IsGrantedBy([CouchAccess.Push]));
        Assert.True(Classify("GET", "/db/doc").IsGrantedBy([CouchAccess.Pull]));
        Assert.False(Classify("PUT", "/db/doc").IsGrantedBy([CouchAccess.Pull, CouchAccess.Read]));
        Assert.False(Classify("POST", "/db/_bulk_docs").IsGrantedBy([CouchAccess.Pull, CouchAccess.Write]));
        Assert.False(Classify("PUT", "/db").IsGrantedBy([CouchAccess.Pull, CouchAccess.Push, CouchAccess.Write]));
    }

    [Theory]
    [InlineData("GET", "/db/_changes?since=0;filter=app/f", CouchAccess.Query)] // mochiweb ends a pair at ';'
    [InlineData("GET", "/db/_changes?since=0;view=app/v", CouchAccess.Query)]
    [InlineData("GET", "/db/_changes?filter=app/f", CouchAccess.Query)]
    [InlineData("GET", "/db/_changes?filter=app%2Ff", CouchAccess.Query)]
    [InlineData("GET", "/db/_changes?%66ilter=app/f&anything=passes", CouchAccess.Query)] // req.query of the filter
    [InlineData("GET", "/db/_changes?filter=_view&view=app/v", CouchAccess.Query)]
    [InlineData("GET", "/db/_changes?filter=_design", CouchAccess.Pull)]
    [InlineData("GET", "/db/_design/app/_view/v?reduce=false&group_level=2", CouchAccess.Query)]
    [InlineData("POST", "/db/_design/app/_view/v", CouchAccess.Query)]
    [InlineData("POST", "/db/_find", CouchAccess.Query)]
    [InlineData("POST", "/db/_explain", CouchAccess.Query)]
    [InlineData("DELETE", "/db", CouchAccess.Delete)]
    [InlineData("POST", "/db/_compact", CouchAccess.Maintain)]
    [InlineData("POST", "/db/_compact/app", CouchAccess.Maintain)]
    [InlineData("POST", "/db/_view_cleanup", CouchAccess.Maintain)]
    [InlineData("DELETE", "/db/_local/a?rev=0-1", CouchAccess.Push)]
    public void GrantableClassesOfIssue23(string method, string target, CouchAccess expected) =>
        Assert.Equal(expected, Classify(method, target).Access);

    [Fact]
    public void PlainChangesPassUnknownParametersOnRebuilt()
    {
        // PouchDB's query_params for a function filter it runs itself; CouchDB's feed ignores them.
        var result = Classify("GET", "/db/_changes?style=all_docs&since=0&even=true");
        Assert.Equal(CouchAccess.Pull, result.Access);
        Assert.Equal("style=all_docs&since=0&even=true", result.ForwardQuery);
    }

    [Fact]
    public void LocalDocumentsHaveNoAttachments()
    {
        var result = Classify("GET", "/db/_local/a/att.txt");
        Assert.True(result.IsDenied);
        Assert.True(result.IsNotFound);
    }

    [Fact]
    public void CheckpointDeleteIsGrantedByWriteToo() =>
        Assert.True(Classify("DELETE", "/db/_local/a").IsGrantedBy([CouchAccess.Write]));

    [Theory]
    [InlineData("GET", "/db/_changes?filter=nodesign")]
    [InlineData("GET", "/db/_changes?filter=_other")]
    [InlineData("GET", "/db/_changes?filter=a/b/c")]
    [InlineData("GET", "/db/_design/app/_view/_v")]
    [InlineData("PUT", "/db/_design/app/_view/v")]
    [InlineData("GET", "/db/_design/app/_view/v/extra")]
    [InlineData("POST", "/db/_compact/app/more")]
    public void StaysClosedBesideTheNewClasses(string method, string target) => Assert.True(Classify(method, target).IsDenied);

    [Theory]
    [InlineData("GET", "/db/doc?rev=1-a;callback=x")]
    [InlineData("PUT", "/db/_design/app?rev=1-a;new_edits=false")]
    public void SemicolonSeparatesParametersAsCouchDbReadsThem(string method, string target) =>
        Assert.True(Classify(method, target).IsDenied);

    [Fact]
    public void SemicolonNewEditsIsAReplicatedWrite() =>
        Assert.Equal(CouchAccess.Push, Classify("PUT", "/db/doc?batch=ok;new_edits=false").Access);

    [Theory]
    [InlineData("GET", "/db?reduce=false", "reduce")]
    [InlineData("GET", "/db/_all_docs?limit=1&group=true", "group")]
    [InlineData("POST", "/db/_bulk_docs?new_edits=false", "new_edits")] // new_edits belongs in the body
    [InlineData("GET", "/db/doc?Rev=1-a", "Rev")]
    [InlineData("GET", "/db/doc?rev=1-a&rev=2-b", "rev")]
    [InlineData("PUT", "/db/_local/x?new_edits=false", "new_edits")]
    public void UnknownOrConflictingParameterIsABadRequest(string method, string target, string name)
    {
        var result = Classify(method, target);
        Assert.True(result.IsDenied);
        Assert.True(result.IsBadRequest);
        Assert.Contains($"parameter {name} ", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/db/_changes?feed=longpoll;since=now", "feed=longpoll&since=now")]
    [InlineData("GET", "/db/_all_docs?startkey=%22a+b%22&startkey=%22a%20b%22", "startkey=%22a%20b%22")]
    [InlineData("GET", "/db/doc?revs", "revs=")]
    [InlineData("GET", "/db/doc?%72ev=1-a", "rev=1-a")]
    [InlineData("GET", "/db/doc?rev=%E2%82%AC", "rev=%E2%82%AC")]
    [InlineData("GET", "/db/doc", null)]
    public void ForwardQueryIsRebuiltFromJudgedPairs(string method, string target, string? forward) =>
        Assert.Equal(forward, Classify(method, target).ForwardQuery);

    [Fact]
    public void QueryThatIsNotUtf8IsABadRequest() => Assert.True(Classify("GET", "/db/doc?rev=%C0%AF").IsBadRequest);
}
