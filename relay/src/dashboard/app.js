// @ts-check
/**
 * Arena Relay dashboard, the entry module: plain DOM, no framework, no build step. Signs the
 * operator in with the admin token (kept in sessionStorage), switches tabs, polls every 2 s and
 * asks the visible tab to draw itself. Each tab is a module with `refresh` (fetch what it shows
 * into `state`) and `render` (update its rows in place, so that focus survives a refresh). Every
 * value from the API reaches the page as text, never as HTML.
 */
/** @import { TabName } from './state.js' */
import { ApiError, api, messageOf } from './api.js';
import { $, setText } from './dom.js';
import { buildPage } from './page.js';
import { hooks, POLL_MS, state, TABS, TOKEN_KEY } from './state.js';
import * as alerts from './tab-alerts.js';
import * as aliases from './tab-aliases.js';
import * as audit from './tab-audit.js';
import * as clients from './tab-clients.js';
import * as keys from './tab-keys.js';
import * as overview from './tab-overview.js';
import * as relays from './tab-relays.js';
import * as requests from './tab-requests.js';
import * as stats from './tab-stats.js';
import * as usage from './tab-usage.js';

/**
 * What each tab fetches beyond agents and stats (which every tab shows), and how it draws.
 * @type {Record<TabName, { refresh?: () => Promise<void>, render?: () => void }>}
 */
const PANELS = {
  overview: {},
  clients,
  keys,
  requests,
  usage,
  stats,
  relays,
  aliases,
  alerts,
  audit,
};

// ---------------------------------------------------------------------------------------------
// Sign-in

/** @param {boolean} signedIn */
function showView(signedIn) {
  $('login-view').hidden = signedIn;
  $('app-view').hidden = !signedIn;
  $('logout').hidden = !signedIn;
  $('live-status').hidden = !signedIn;
}

function tokenInput() {
  return /** @type {HTMLInputElement} */ ($('login-token'));
}

/** @param {string} [message] */
function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  clearTimeout(state.timer);
  state.timer = undefined;
  showView(false);
  setText($('login-error'), message);
  tokenInput().value = '';
  tokenInput().focus();
}

/** @param {SubmitEvent} event */
async function signIn(event) {
  event.preventDefault();
  const token = tokenInput().value.trim();
  const error = $('login-error');
  setText(error, '');
  if (!token) {
    setText(error, 'Enter the admin token.');
    return;
  }
  state.token = token;
  try {
    await api('GET', 'api/agents', undefined, { login: true });
  } catch (failure) {
    state.token = '';
    const refused = failure instanceof ApiError && (failure.status === 401 || failure.status === 403);
    setText(error, refused ? 'The relay did not accept this token.' : messageOf(failure));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenInput().value = '';
  start();
}

function start() {
  showView(true);
  selectTab(tabFromHash(), { focus: false });
  $('main').focus();
  void refreshAll();
}

// ---------------------------------------------------------------------------------------------
// Tabs

/**
 * The tab the address names; a link's filters (`#requests?client=…`) go to that tab.
 * @returns {TabName}
 */
function tabFromHash() {
  const [name, query] = location.hash.slice(1).split('?');
  const tab = TABS.find((t) => t === name) ?? 'overview';
  if (tab === 'requests' && query) requests.applyFilter(new URLSearchParams(query));
  return tab;
}

/**
 * @param {TabName} name
 * @param {{ focus?: boolean }} [options]
 */
function selectTab(name, { focus = true } = {}) {
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
    if (selected) {
      if (focus) button.focus();
      // On a narrow screen the tab bar scrolls: keep the chosen tab in sight.
      button.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  render();
  void refreshTab();
}

/** @param {KeyboardEvent} event */
function onTabKey(event) {
  const index = TABS.indexOf(state.tab);
  /** @type {Record<string, number>} */
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  const move = moves[event.key];
  if (move === undefined) return;
  event.preventDefault();
  selectTab(TABS[(move + TABS.length) % TABS.length] ?? 'overview');
}

// ---------------------------------------------------------------------------------------------
// Polling

async function refreshLive() {
  const [agents, figures] = await Promise.all([api('GET', 'api/agents'), api('GET', 'api/stats')]);
  state.agents = agents.agents;
  state.unreachable = agents.unreachable ?? [];
  state.queueDepth = agents.queue_depth ?? 0;
  state.stats = figures;
  state.relayId = figures.relay ?? '';
}

/** What most actions change. */
async function refreshCommon() {
  await Promise.all([refreshLive(), clients.refresh(), keys.refresh()]);
}

/** What the visible tab needs beyond agents and stats. */
function refreshTab() {
  const panel = PANELS[state.tab];
  return (panel.refresh?.() ?? Promise.resolve()).then(render, reportError);
}

async function refreshAll() {
  await refreshCommon().then(render, reportError);
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if (!state.token) return;
  state.timer = setTimeout(tick, POLL_MS);
}

async function tick() {
  if (!state.token) return;
  if (document.hidden) return schedule();
  try {
    await Promise.all([refreshLive(), refreshTab()]);
    render();
  } catch (error) {
    reportError(error);
  }
  schedule();
}

/** @param {unknown} error */
function reportError(error) {
  if (error instanceof ApiError && error.status === 401) return;
  markLive(false, messageOf(error));
}

/**
 * @param {boolean} ok
 * @param {string} [why]
 */
function markLive(ok, why = '') {
  const box = $('live-status');
  box.classList.toggle('stale', !ok);
  box.classList.remove('degraded');
  setText($('live-text'), ok ? 'Live' : `Not updating: ${why}`);
  if (ok) markPool();
}

/** Updating, but is anything serving? With agents and none ready the dot says so, not "Live". */
function markPool() {
  const total = state.agents.length;
  const ready = state.agents.filter((a) => a.ready && !a.draining).length;
  if (total === 0 || ready === total) return;
  $('live-status').classList.toggle('degraded', true);
  setText($('live-text'), `${ready === 0 ? 'Degraded' : 'Live'} · ${ready} of ${total} agents ready`);
}

function render() {
  if (!state.token || !state.stats) return;
  markLive(true);
  overview.render();
  PANELS[state.tab].render?.();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function init() {
  Object.assign(hooks, { render, signOut, markLive, reportError, refreshCommon });
  buildPage();
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', () => signOut('Signed out.'));
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectTab(tab));
  $('tablist').addEventListener('keydown', onTabKey);
  window.addEventListener('hashchange', () => state.token && selectTab(tabFromHash(), { focus: false }));
  overview.init();
  clients.init();
  keys.init();
  usage.init(render);
  requests.init();
  aliases.init();
  alerts.init();
  audit.init();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.token) void tick();
  });
  if (state.token) start();
  else signOut();
}

init();
