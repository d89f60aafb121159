import { useMe } from './api/queries.ts'
import { AuthScreen } from './auth/AuthScreen.tsx'
import { useRoute } from './routing/router.ts'
import { SignedInApp } from './shell/SignedInApp.tsx'

/** Shows the sign-up or log-in form until a user is signed in, then the chat. */
export function App() {
  const me = useMe()
  const route = useRoute()

  if (me.isPending) {
    return (
      <div className="splash" aria-busy="true">
        <img src="/icon.svg" alt="Parley" width={56} height={56} />
      </div>
    )
  }
  if (!me.data) return <AuthScreen form={route.name === 'signup' ? 'signup' : 'login'} />
  return <SignedInApp user={me.data} route={route} />
}
