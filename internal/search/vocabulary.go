package search

import "strings"

// vocabulary is how this project's people say the same thing in other
// words: a query's word also finds these, weighed less. Spellings of one
// term ("sshkey", "file system"), short forms ("repo", "arch", "bib"), and
// the image types of each cloud.
var vocabulary = map[string][]string{
	"sshkey":     {"ssh key"},
	"sshkeys":    {"ssh keys"},
	"filesystem": {"file system"},
	"rootfs":     {"root file system"},
	"fs":         {"file system"},
	"repo":       {"repository"},
	"repos":      {"repositories"},
	"arch":       {"architecture"},
	"bib":        {"bootc-image-builder"},
	"3rd":        {"third"},
	"creds":      {"credentials"},
	"vm":         {"virtual machine"},
	"iso":        {"installer"},
	"aws":        {"ami"},
	"ec2":        {"ami"},
	"ami":        {"aws"},
	"azure":      {"vhd"},
	"vhd":        {"azure"},
	"gcp":        {"gce", "google cloud"},
	"gce":        {"google cloud"},
	"vmware":     {"vmdk", "ova", "vsphere"},
}

// expansions are the other words of a query's words: each a word, or
// words in a row.
func expansions(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) {
		out = append(out, vocabulary[w]...)
	}
	return out
}
