// cdx-validate.js FILE: validate a CycloneDX JSON document with the CycloneDX project's own
// library (@cyclonedx/cyclonedx-library: its strict JSON schema for the document's specVersion,
// through ajv). Exit 0 valid, 1 invalid (the schema's errors on stderr), 2 could not validate.
'use strict'
const fs = require('fs')
const { Validation } = require('@cyclonedx/cyclonedx-library')

let text, version
try {
  text = fs.readFileSync(process.argv[2], 'utf8')
  version = JSON.parse(text).specVersion
} catch (e) {
  console.error(`cdx-validate: ${process.argv[2]}: ${e.message}`)
  process.exit(1)
}
new Validation.JsonStrictValidator(version).validate(text).then(
  (errors) => {
    if (errors === null) {
      console.log(`valid CycloneDX ${version}`)
      process.exit(0)
    }
    console.error(`cdx-validate: ${process.argv[2]}: ${JSON.stringify(errors)}`)
    process.exit(1)
  },
  (e) => {
    console.error(`cdx-validate: ${process.argv[2]}: cannot validate: ${e.message}`)
    process.exit(2)
  })
