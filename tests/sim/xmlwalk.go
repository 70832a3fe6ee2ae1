// vimon-sim: walkElements, the one XML walk that paging and truncated update sets cut replies with.
package main

import (
	"bytes"
	"encoding/xml"
	"io"
)

// element is one element of a reply, with byte offsets into it.
type element struct {
	name  string // local name
	depth int    // Envelope = 1, Body = 2, XxxResponse = 3, returnval = 4, ...
	start int64  // offset of its start tag
	open  int64  // offset just after its start tag
	close int64  // offset of its end tag (set when closed)
	end   int64  // offset just after its end tag (set when closed)
}

// walkElements calls fn for every element of reply when its start tag has been read
// (closed false) and again when its end tag has been read (closed true).
func walkElements(reply []byte, fn func(e *element, closed bool)) error {
	d := xml.NewDecoder(bytes.NewReader(reply))
	var stack []*element
	for {
		pos := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{name: t.Name.Local, depth: len(stack) + 1, start: pos, open: d.InputOffset()}
			stack = append(stack, e)
			fn(e, false)
		case xml.EndElement:
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			e.close, e.end = pos, d.InputOffset() // <x/>: close == open == end
			fn(e, true)
		}
	}
}
