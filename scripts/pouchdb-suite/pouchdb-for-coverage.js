'use strict';
// Stand-in for the PouchDB monorepo's unpublished `pouchdb-for-coverage` package, which the suite's
// tests/integration/utils.js requires for a handful of helpers. It re-exports the same helpers from
// npm's pouchdb-*@9.0.0 packages (pinned in tools/package.json). Our code, not the suite's: the
// harness (scripts/pouchdb-suite/run.js) copies it to packages/node_modules/pouchdb-for-coverage/.
var PouchDB = require('pouchdb');
var utils = require('pouchdb-utils');
var binary = require('pouchdb-binary-utils');
var errors = require('pouchdb-errors');
var generateReplicationId = require('pouchdb-generate-replication-id');

PouchDB.utils = {
  atob: binary.atob,
  btoa: binary.btoa,
  blob: binary.blob,
  binaryStringToBlobOrBuffer: binary.binaryStringToBlobOrBuffer,
  uuid: utils.uuid,
  rev: utils.rev,
  assign: Object.assign,
  generateReplicationId: generateReplicationId
};
PouchDB.ajax = PouchDB.fetch; // the suite's utils.js copies it; none of the tests call it
PouchDB.Errors = errors;
module.exports = PouchDB;
