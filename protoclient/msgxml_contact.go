package protoclient

// Contact cards (MsgType 42) and friend requests (MsgType 37): a `<msg>` whose
// attributes say who.

// cardMsg is a shared contact card. UserName is the permanent id (wxid_…) or, for
// strangers, an encrypted v1_…@stranger name.
type cardMsg struct {
	UserName        xmlStr `xml:"username,attr"`
	NickName        string `xml:"nickname,attr"`
	Alias           xmlStr `xml:"alias,attr"`
	Province        xmlStr `xml:"province,attr"`
	City            xmlStr `xml:"city,attr"`
	Sex             xmlInt `xml:"sex,attr"`
	Sign            string `xml:"sign,attr"`
	BigHeadImgURL   xmlStr `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL xmlStr `xml:"smallheadimgurl,attr"`
	Scene           xmlInt `xml:"scene,attr"`
	CertFlag        xmlInt `xml:"certflag,attr"`
	RegionCode      xmlStr `xml:"regionCode,attr"`
}

// parseCard parses the content of a contact card. It fails unless the root `<msg>`
// carries a username.
func parseCard(content string) (*cardMsg, error) {
	var x cardMsg
	err := checkRoot(content, &x, "card", "username", func() bool { return x.UserName != "" })
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// friendRequestMsg is a friend request. Accepting it needs the session UserName and
// Ticket of Message.RecommendInfo; the XML adds the permanent id and where the
// requester came from.
type friendRequestMsg struct {
	FromUserName     xmlStr `xml:"fromusername,attr"`    // permanent id, wxid_…
	EncryptUserName  xmlStr `xml:"encryptusername,attr"` // v1_…@stranger
	FromNickName     string `xml:"fromnickname,attr"`
	Content          string `xml:"content,attr"` // the greeting
	Ticket           xmlStr `xml:"ticket,attr"`  // v2_…@stranger
	Scene            xmlInt `xml:"scene,attr"`
	OpCode           xmlInt `xml:"opcode,attr"`
	Alias            xmlStr `xml:"alias,attr"`
	ChatRoomUserName xmlStr `xml:"chatroomusername,attr"` // the group the requester found you in
	Sign             string `xml:"sign,attr"`
	BigHeadImgURL    xmlStr `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL  xmlStr `xml:"smallheadimgurl,attr"`
	Province         xmlStr `xml:"province,attr"`
	City             xmlStr `xml:"city,attr"`
	Sex              xmlInt `xml:"sex,attr"`
}

// parseFriendRequest parses the content of a friend request (MsgType 37). It fails
// unless the root `<msg>` names the requester by fromusername or encryptusername.
func parseFriendRequest(content string) (*friendRequestMsg, error) {
	var x friendRequestMsg
	err := checkRoot(content, &x, "friend request", "requester", func() bool {
		return x.FromUserName != "" || x.EncryptUserName != ""
	})
	if err != nil {
		return nil, err
	}
	return &x, nil
}
