'use strict';
// Tests of PouchDB's suite that pass straight against pouchdb-server but fail through the gate, and
// why. Each entry is [file, title pattern, why, 'sometimes' when it depends on timing]. run.js fails
// on any gate-only failure not listed.
// Most are refusals on purpose (an endpoint the gate closes or a class no rule can grant yet); when
// the classes being added (query, delete, maintain, replicate) land, run.js grants them (it reads the
// schema), those tests pass, and their entries here are reported as unused: delete them then.
// Entries marked GATEWAY ISSUE are not deliberate refusals: they are failures to fix.

const DELETE_DB = 'DELETE /db refused: deleting a database is closed (403)';
const FILTER = 'GET /db/_changes?filter=<ddoc>/<fn> or _view refused: changes filter must be _doc_ids or _selector (403)';
const VIEW = 'GET /db/_design/<d>/_view/<v> refused: design function _view is closed (403)';
const COMPACT = 'POST /db/_compact refused: database endpoint _compact is closed (403)';
const LOCAL_DELETE = 'DELETE /db/_local/<id> refused: only GET and PUT on _local documents (403)';
const LOCAL_ATTACHMENT = 'GET /db/_local/<id>/<attachment> refused: malformed _local path (403, CouchDB says 404)';

// With a key granted every class the schema lists (run.js reads them from gatehouse.schema.json).
const ALL = [
  ['attachments', /Test getAttachment for _local doc/, LOCAL_ATTACHMENT],
  ['attachments', /Test attachments:true for _local doc/, LOCAL_ATTACHMENT],
  ['attachments', /#2818 - save same attachment in different revs/, COMPACT],
  ['attachments', /#8456 bad attachment rev after replication/, COMPACT],
  ['basics', /4314 Create a pouch with (\+ in|urlencoded) name/, DELETE_DB],
  ['basics', /4219 destroy a pouch/, DELETE_DB],
  ['basics', /4339 throw useful error if method called on stale instance/, DELETE_DB],
  ['basics', /Fail to fetch a doc after db was deleted/, DELETE_DB],
  ['basics', /replace PouchDB.destroy\(\)/, DELETE_DB],
  ['changes', /Kill database while listening to live changes/, DELETE_DB],
  ['changes', /Changes with shorthand function name/, FILTER],
  ['changes', /Changes with `views` key not present in ddoc/, FILTER],
  ['changes', /Changes limit and view instead of filter/, FILTER],
  ['changes', /#3609 view option implies filter: _view/, FILTER],
  // GATEWAY ISSUE: PouchDB runs a function filter itself and sends its query_params on the plain
  // feed (GET /db/_changes?...&abc=true); CouchDB ignores unknown parameters, the gate answers
  // 400 "query parameter abc is not accepted here" (src/Proxy/Couch/CouchParameters.cs).
  ['changes', /changes-filter with query params/, 'GATEWAY ISSUE: 400 query parameter abc is not accepted here'],
  // A live feed may get 429 once the key holds its share of upstream connections (16): the live
  // feeds of the tests above whose DELETE /db was refused stay open for the rest of the file.
  ['changes', /handle individual changes in live replication/, 'live feed 429: key holds its 16 upstream connections (feeds left open after refused DELETE /db)', 'sometimes'],
  ['design_docs', /Changes filter/, FILTER],
  ['replication', /#3606 - live (replication with filtered ddoc|repl with filtered ddoc\+query_params|repl with view)/, FILTER],
  ['replication', /#3543 replication with a ddoc filter|#3578 replication with a ddoc filter/, FILTER],
  ['replication', /Test _conflicts key|doc count after multiple replications/, VIEW],
  ['replication', /Replicates deleted docs w\/ compaction/, COMPACT],
  ['replication', /issue #585 Store checkpoint on target db/, DELETE_DB],
  // GATEWAY ISSUE, as for changes-filter with query params: a function filter runs in PouchDB, and
  // its query_params go on the source's feed (GET /db/_changes?...&even=true) -> 400.
  ['replication', /Test consecutive replications with different query_params/, 'GATEWAY ISSUE: 400 query parameter even is not accepted here'],
  ['design_docs', /Basic views|Concurrent queries/, VIEW],
  ['design_docs', /Test rev purge with a view/, VIEW + ' (not run when the failed "after each" hook stops the file)', 'sometimes'],
  ['local_docs', /local docs - (put then remove then get|put after remove|put after remove with a rev|multiple removes)/, LOCAL_DELETE],
];

function expectedRefusal(file, title) {
  for (const [f, re, why] of ALL) {
    if (f === file && re.test(title)) return why;
  }
  return null;
}

module.exports = { expectedRefusal, entries: ALL };
