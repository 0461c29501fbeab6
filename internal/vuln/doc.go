// Package vuln finds known vulnerabilities in the modules of a repository
// with golang.org/x/vuln, in process, and turns them into MH010 findings on
// the go.mod line to change.
//
// Each module is scanned by golang.org/x/vuln/scan with "-format json"; the
// stream of config, progress, SBOM, osv and finding messages is parsed by
// [Parse] and reduced by [Report.Findings] to one finding per module and
// vulnerability, at the deepest reach x/vuln established: the vulnerable
// symbol is called (error), its package is imported (warning), or its
// module is only required (info).
//
// The database is x/vuln's default, a file:// directory in the standard
// layout (index/db.json, index/modules.json, ID/<id>.json), or one built by
// [ModuleDB] from the golang.org/x/vulndb module fetched through GOPROXY.
package vuln
