// Package docs is the documentation source: it reads the markdown of the
// osbuild.org site (Docusaurus, built from osbuild/osbuild.github.io,
// folder docs/) and cuts each page into sections, each with the address
// the site gives it, for the search index.
//
// It is laid out as every source is (see package handlers); so far:
//
//   - page.go: a page's address and title as Docusaurus makes them (front
//     matter slug and id, number prefixes, index pages, heading anchors);
//   - mdx.go: MDX read as the text a reader sees, cut into sections.
package docs
