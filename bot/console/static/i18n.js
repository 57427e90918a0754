// The console's own words in Hindi and English. Elements carry data-t (text) or data-tp (placeholder) keys;
// the choice is kept in localStorage. Voter texts are never translated here.
(function () {
  "use strict";
  var TEXTS = {
    console_title: ["एजेंट कंसोल", "Agent console"],
    name: ["नाम", "Name"], password: ["पासवर्ड", "Password"], log_in: ["लॉग इन", "Log in"], log_out: ["लॉग आउट", "Log out"],
    status: ["स्थिति", "Status"], available: ["उपलब्ध", "available"], away: ["दूर", "away"],
    take_next: ["अगली चैट लें", "Take next"], auto_on: ["चैट अपने आप आती हैं", "Chats arrive by themselves"],
    search: ["खोजें", "Search"], enable_alerts: ["सूचनाएँ चालू करें", "Enable alerts"], alerts_on: ["सूचनाएँ चालू हैं", "Alerts on"],
    ui_language: ["भाषा", "Language"], my_chats: ["मेरी चैट", "My chats"], callbacks: ["कॉल-बैक", "Call-backs"],
    shortcuts: ["Alt+T अगली चैट · Alt+N अगली खुली चैट · Alt+C तैयार जवाब · Alt+1…9 एक तैयार जवाब · Enter भेजें, Shift+Enter नई पंक्ति",
                "Alt+T take next · Alt+N next chat · Alt+C canned · Alt+1…9 a canned reply · Enter sends, Shift+Enter new line"],
    accept: ["चैट स्वीकार करें", "Accept chat"], export: ["निर्यात (छिपे नंबर)", "Export (masked)"],
    labels: ["लेबल", "Labels"], add_label: ["+ लेबल…", "+ label…"], canned: ["तैयार जवाब…", "Canned response…"],
    type_reply: ["जवाब लिखें", "Type a reply"], send: ["भेजें", "Send"],
    note_placeholder: ["निजी नोट: सिर्फ़ साथी देखेंगे, मतदाता नहीं", "Private note: only colleagues see it, never the voter"],
    add_note: ["निजी नोट जोड़ें", "Add private note"], note: ["निजी नोट", "private note"],
    transfer_to: ["किसे सौंपें", "Transfer to"], hindi_queue: ["हिन्दी कतार", "Hindi queue"], english_queue: ["अंग्रेज़ी कतार", "English queue"],
    or_agent: ["या एजेंट का नाम", "or agent name"], transfer: ["सौंपें", "Transfer"], close_as: ["नतीजा", "Close as"],
    d_resolved: ["हल हो गया", "resolved"], d_callback_needed: ["कॉल-बैक चाहिए", "callback needed"], d_spam: ["स्पैम", "spam"],
    d_transferred: ["सौंपा गया", "transferred"],
    close_chat: ["चैट बंद करें", "Close chat"], supervisor: ["सुपरवाइज़र", "Supervisor"], breaches: ["SLA उल्लंघन", "SLA breaches"],
    reports: ["रिपोर्ट", "Reports"], from: ["से", "From"], to: ["तक", "To"], show: ["दिखाएँ", "Show"], csv: ["CSV डाउनलोड", "Download CSV"],
    chart_dispositions_language: ["भाषा के हिसाब से नतीजे", "Dispositions by language"],
    chart_handle_agent: ["एजेंट के हिसाब से समय (मध्य, p90, सेकंड)", "Handle time by agent (median, p90, seconds)"],
    chart_csat: ["संतुष्टि (1–5)", "Satisfaction (1–5)"], chart_label: ["लेबल के हिसाब से चैट", "Chats by label"],
    search_title: ["बातचीत खोजें", "Search conversations"], search_words: ["शब्द (हिन्दी या अंग्रेज़ी)", "Words (Hindi or English)"],
    any_label: ["कोई भी लेबल", "any label"], agent: ["एजेंट", "agent"], any_disposition: ["कोई भी नतीजा", "any disposition"],
    any_language: ["कोई भी भाषा", "any language"], open_and_closed: ["खुली और बंद", "open and closed"], open: ["खुली", "open"], closed: ["बंद", "closed"],
    no_results: ["कुछ नहीं मिला।", "Nothing found."],
    first_reply: ["पहला जवाब", "first reply"], latest_reply: ["ताज़ा जवाब", "latest reply"], waiting: ["इंतज़ार", "waiting"],
    held: ["चल रही", "held"], answered: ["जवाब दिया", "answered"],
    nobody_waiting: ["आपकी भाषाओं में कोई इंतज़ार नहीं कर रहा।", "Nobody is waiting in your languages."],
    closed_back: ["बंद हुई; अब सहायक बातचीत संभालेगा।", "Closed; the assistant has the conversation again."],
    transferred: ["सौंप दी गई।", "Transferred."], choose_queue: ["कतार चुनें या एजेंट का नाम लिखें।", "Choose a queue or type an agent name."],
    new_chat: ["नई चैट आपको दी गई", "A new chat was assigned to you"], voter_wrote: ["मतदाता ने लिखा", "The voter wrote"],
    handled: ["निपटाई गई", "handled"], median: ["मध्य", "median"], first_response: ["पहला जवाब", "first response"],
    csat_avg: ["औसत संतुष्टि", "CSAT average"], responses: ["जवाब", "responses"], today: ["आज", "Today"],
    open_callbacks: ["खुले कॉल-बैक", "Open call-backs"], queues: ["कतारें", "Queues"], dead_letters: ["अटके संदेश", "Dead letters"],
    load: ["भार", "load"], no_callbacks: ["कोई खुला कॉल-बैक नहीं।", "No open call-back requests."],
    done: ["हो गया", "done"], failed: ["नहीं हुआ", "failed"], transcript: ["बातचीत", "transcript"],
    offered: ["नई, स्वीकार करें", "new, accept it"], voter: ["मतदाता", "voter"], bot: ["सहायक", "assistant"],
    all_open: ["इंतज़ार में और चल रही सभी चैट", "Every waiting and held chat"], chat: ["चैट", "chat"],
    offline: ["ऑफ़लाइन", "offline"], disabled: ["बंद खाता", "disabled"], agent_turn: ["एजेंट", "agent"],
    language: ["भाषा", "language"], channel: ["चैनल", "channel"], reason: ["कारण", "reason"], topic: ["विषय", "topic"],
  };
  var lang = localStorage.getItem("samvad.console.lang") || (navigator.language || "hi").slice(0, 2);
  if (lang !== "en") lang = "hi";

  function t(key) { var pair = TEXTS[key]; return pair ? pair[lang === "hi" ? 0 : 1] : key; }

  function apply(root) {
    (root || document).querySelectorAll("[data-t]").forEach(function (node) { node.textContent = t(node.getAttribute("data-t")); });
    (root || document).querySelectorAll("[data-tp]").forEach(function (node) { node.placeholder = t(node.getAttribute("data-tp")); });
    document.documentElement.lang = lang;
  }

  window.I18N = {
    t: t, apply: apply,
    get lang() { return lang; },
    set: function (value) { lang = value === "en" ? "en" : "hi"; localStorage.setItem("samvad.console.lang", lang); apply(); },
  };
  document.addEventListener("DOMContentLoaded", function () { apply(); });
  apply();
})();
