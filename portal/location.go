package portal

import (
	"html"
	"math"
	"net/url"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// Locations arrive as MsgType 1 with SubMsgType 48 (§5.2, §9.11): OriContent holds the
// XML with the coordinates, Content "<label>:<br/><map image path>", Url a map link with
// "coord=lat,lng". Any one of them is enough.
//
// The coordinates are WeChat's (Tencent Maps: GCJ-02 inside mainland China), passed on
// as they are; a WGS-84 map shows places in China a few hundred metres off.

func (c *converter) location() (*Converted, error) {
	loc := c.findLocation(c.msg.OriContent, c.body)
	if loc == nil {
		// Without coordinates the label is still worth showing.
		if label, _, ok := protoclient.LocationText(c.body); ok && label != "" {
			return single(phoneNotice("Location: "+label, "")), nil
		}
		return single(cannotShow(protoclient.MsgLocation, "it has no coordinates")), nil
	}
	return single(locationContent(loc, "")), nil
}

// liveLocation is the start of a real-time location share (49/17): a location when
// the message gives one, else a notice to follow it on the phone.
func (c *converter) liveLocation(a *protoclient.AppMsg) (*Converted, error) {
	if loc := c.findLocation(c.msg.OriContent, c.body); loc != nil {
		return single(locationContent(loc, "Live location")), nil
	}
	n := phoneNotice("Live location sharing started", "open WeChat on your phone to follow it")
	if a != nil && strings.TrimSpace(a.Title) != "" {
		n.Body += " " + oneLine(a.Title)
	}
	return single(n), nil
}

// findLocation tries OriContent, the content itself, then the Url's coord parameter
// (with the label from the content).
func (c *converter) findLocation(ori, body string) *protoclient.Location {
	for _, s := range []string{ori, body} {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if loc, err := protoclient.ParseLocation(s); err == nil {
			if loc.Label == "" {
				loc.Label, _, _ = protoclient.LocationText(body)
			}
			return loc
		}
	}
	lat, lng, ok := coordFromURL(html.UnescapeString(c.msg.Url))
	if !ok {
		return nil
	}
	label, _, _ := protoclient.LocationText(body)
	return &protoclient.Location{Lat: lat, Lng: lng, Label: label}
}

// coordFromURL reads "coord=lat,lng" from a Tencent Maps link.
func coordFromURL(u string) (lat, lng float64, ok bool) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(p.Query().Get("coord"), ",")
	if len(parts) != 2 {
		return 0, 0, false
	}
	return validCoords(parts[0], parts[1])
}

func validCoords(latS, lngS string) (lat, lng float64, ok bool) {
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(lngS), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng) ||
		math.Abs(lat) > 90 || math.Abs(lng) > 180 {
		return 0, 0, false
	}
	return lat, lng, true
}

// placeName is the name to show: the POI name, unless it is the "[位置]" placeholder
// phones put there, then the label (the address).
func placeName(loc *protoclient.Location) (name, address string) {
	poi := strings.TrimSpace(loc.PoiName)
	if strings.HasPrefix(poi, "[") && strings.HasSuffix(poi, "]") {
		poi = ""
	}
	label := strings.TrimSpace(loc.Label)
	switch {
	case poi != "" && label != "" && poi != label:
		return poi, label
	case poi != "":
		return poi, ""
	}
	return label, ""
}

func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// locationContent is an m.location; prefix labels special kinds ("Live location").
func locationContent(loc *protoclient.Location, prefix string) *event.MessageEventContent {
	name, address := placeName(loc)
	body := name
	if body == "" {
		body = "Location"
	}
	if address != "" {
		body += "\n" + address
	}
	if prefix != "" {
		body = prefix + ": " + body
	}
	return &event.MessageEventContent{
		MsgType:  event.MsgLocation,
		Body:     body,
		GeoURI:   "geo:" + formatCoord(loc.Lat) + "," + formatCoord(loc.Lng),
		Mentions: &event.Mentions{},
	}
}

// parseGeoURI reads "geo:lat,lng[,alt][;params]" (RFC 5870).
func parseGeoURI(s string) (lat, lng float64, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 4 || !strings.EqualFold(s[:4], "geo:") {
		return 0, 0, false
	}
	s = s[4:]
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, false
	}
	return validCoords(parts[0], parts[1])
}

// osmLink is a map link anyone can open.
func osmLink(lat, lng float64) string {
	la, lo := formatCoord(lat), formatCoord(lng)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=16/" + la + "/" + lo
}
