package protoclient

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Locations (MsgType 1 with SubMsgType 48, §5.2, §9.11)

type xmlLocation struct {
	Location *struct {
		X       string `xml:"x,attr"`
		Y       string `xml:"y,attr"`
		Scale   string `xml:"scale,attr"`
		Label   string `xml:"label,attr"`
		PoiName string `xml:"poiname,attr"`
		PoiID   string `xml:"poiid,attr"`
	} `xml:"location"`
}

func parseCoord(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(trim(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// parseLocation parses the OriContent of a location message (plain or escaped XML). It
// fails unless there is a `<location>` with a latitude in [-90, 90] and a longitude in
// [-180, 180].
func parseLocation(oriContent string) (*Location, error) {
	var x xmlLocation
	root, err := decodeXML(oriContent, &x)
	if err != nil {
		return nil, fmt.Errorf("location: %w", err)
	}
	if root != "msg" || x.Location == nil {
		return nil, fmt.Errorf("location: %w: no <msg><location> (root <%s>)", ErrMalformed, root)
	}
	l := x.Location
	lat, ok1 := parseCoord(l.X, 90)
	lng, ok2 := parseCoord(l.Y, 180)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("location: %w: bad coordinates x=%q y=%q", ErrMalformed, truncate(l.X, 30), truncate(l.Y, 30))
	}
	return &Location{
		Lat:     lat,
		Lng:     lng,
		Scale:   atoi(l.Scale),
		Label:   trim(l.Label),
		PoiName: trim(l.PoiName),
		PoiID:   trim(l.PoiID),
	}, nil
}

// LocationText splits the Content of a MsgType 1 / SubMsgType 48 message,
// `<label>:<br/><map image path>` (group sender prefix already removed), into the decoded
// label and the map-image URL path. ok is false when the shape does not match.
func LocationText(content string) (label, imagePath string, ok bool) {
	const sep = ":<br/>"
	i := strings.LastIndex(content, sep)
	if i < 0 {
		return "", "", false
	}
	// Only &amp; is undone: a full HTML unescape would read "&para=" or "&not=" in a
	// query string as the legacy entities ¶ and ¬.
	path := trim(strings.ReplaceAll(content[i+len(sep):], "&amp;", "&"))
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "http") {
		return "", "", false
	}
	return DecodeText(content[:i]), path, true
}
