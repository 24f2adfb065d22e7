'use strict';
// The bench's Node clients take their settings as one JSON object on stdin, so that secrets
// (passwords, key paths) stay out of argv.

function readStdinJson() {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', d => { text += d; });
    process.stdin.on('end', () => resolve(JSON.parse(text)));
    process.stdin.on('error', reject);
  });
}

module.exports = { readStdinJson };
