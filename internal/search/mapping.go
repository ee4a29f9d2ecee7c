package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/mapping"
)

// analyzer is how text becomes terms: words of letters, digits and
// underscores (so "qcow2", "x86_64" and "image_type" stay words, while
// "customizations.user" and "bootc-image-builder" are several), lower
// case, English stop words dropped, English (Snowball) stems ("users"
// finds "user", "partitioning" finds "partition").
const analyzer = "ibbot_en"

// words is the tokenizer of analyzer.
const words = `[\p{L}\p{N}_]+`

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	if err := m.AddCustomTokenizer("ibbot_words", map[string]any{"type": regexp.Name, "regexp": words}); err != nil {
		return nil, err
	}
	err := m.AddCustomAnalyzer(analyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     "ibbot_words",
		"token_filters": []any{lowercase.Name, en.StopName, en.SnowballStemmerName},
	})
	if err != nil {
		return nil, err
	}
	m.DefaultAnalyzer = analyzer
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{"title", "heading", "body", "extra"} {
		doc.AddFieldMappingsAt(name, textField())
	}
	for _, name := range []string{"kind", "scope"} {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		doc.AddFieldMappingsAt(name, f)
	}
	url := bleve.NewTextFieldMapping()
	url.Index = false
	doc.AddFieldMappingsAt("url", url)
	doc.AddFieldMappingsAt("date", bleve.NewDateTimeFieldMapping())
	m.DefaultMapping = doc
	return m, nil
}

// textField is a field searched and shown: stored for the context line,
// with term positions for phrases and highlighting.
func textField() *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Analyzer = analyzer
	f.Store = true
	f.IncludeTermVectors = true
	return f
}
